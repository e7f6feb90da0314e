using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>
/// What one walk over a method body (its lambdas and local functions included) tells the flow analysis before it
/// starts: how many times each local or parameter is written (a lambda can only trust the state at its creation
/// for a variable written at most once), which arrays the method creates for itself, how each ref local is bound,
/// and which fields and auto-properties of <c>this</c> (or static ones) of a tracked type it touches.
/// </summary>
internal sealed class BodyFacts
{
    private BodyFacts()
    {
    }

    /// <summary>Writes per local or parameter; a declaration with an initializer counts once, a compound
    /// assignment, an increment, a deconstruction or a ref/out argument counts twice.</summary>
    public Dictionary<ISymbol, int> Writes { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Locals holding an array of frames or payloads that the method creates (an array creation or a
    /// collection expression) and never writes otherwise: their elements at constant indices can be followed.</summary>
    public HashSet<ILocalSymbol> OwnArrays { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Ref locals bound once, with the variable they are bound to.</summary>
    public List<(ILocalSymbol Local, IOperation Target)> RefLocals { get; } = new();

    /// <summary>Fields and auto-properties of a tracked type the body reads or writes on <c>this</c> (or statically).</summary>
    public HashSet<ISymbol> Members { get; } = new(SymbolEqualityComparer.Default);

    public int WritesOf(ISymbol symbol) => Writes.TryGetValue(symbol, out var count) ? count : 0;

    public static BodyFacts Collect(IOperation root, FrameTypes types)
    {
        var facts = new BodyFacts();
        var arrayCreations = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        var refRebound = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var operation in root.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation declarator
                    when (declarator.Initializer ?? (declarator.Parent as IVariableDeclarationOperation)?.Initializer) is { } initializer:
                    facts.Add(declarator.Symbol, 1);
                    if (declarator.Symbol.RefKind != RefKind.None)
                        facts.RefLocals.Add((declarator.Symbol, initializer.Value));
                    else if (IsArrayCreation(initializer.Value))
                        Add(arrayCreations, declarator.Symbol, 1);
                    break;
                case ISimpleAssignmentOperation assignment:
                    var target = Target(assignment.Target);
                    facts.Add(target, 1);
                    if (assignment.IsRef && target is not null)
                        refRebound.Add(target);
                    else if (target is not null && IsArrayCreation(assignment.Value))
                        Add(arrayCreations, target, 1);
                    break;
                case ICompoundAssignmentOperation compound:
                    facts.Add(Target(compound.Target), 2);
                    break;
                case IIncrementOrDecrementOperation increment:
                    facts.Add(Target(increment.Target), 2);
                    break;
                case IDeconstructionAssignmentOperation deconstruction:
                    foreach (var written in deconstruction.Target.DescendantsAndSelf())
                        facts.Add(Target(written), 2);
                    break;
                case IArgumentOperation { Parameter.RefKind: RefKind.Out or RefKind.Ref } argument:
                    facts.Add(Target(argument.Value), 2);
                    break;
                case IDeclarationPatternOperation { DeclaredSymbol: { } declared }:
                    facts.Add(declared, 1);
                    break;
                case IRecursivePatternOperation { DeclaredSymbol: { } declared }:
                    facts.Add(declared, 1);
                    break;
                case IFieldReferenceOperation field when IsThisOrStatic(field.Instance) && types.IsTrackedMember(field.Field):
                    facts.Members.Add(field.Field);
                    break;
                case IPropertyReferenceOperation property when IsThisOrStatic(property.Instance) && types.IsTrackedMember(property.Property):
                    facts.Members.Add(property.Property);
                    break;
            }
        }
        foreach (var pair in arrayCreations)
        {
            if (pair.Key is ILocalSymbol { RefKind: RefKind.None, Type: IArrayTypeSymbol { Rank: 1 } array } local
                && types.IsTracked(array.ElementType) && pair.Value == 1 && facts.WritesOf(local) == 1)
                facts.OwnArrays.Add(local);
        }
        facts.RefLocals.RemoveAll(r => refRebound.Contains(r.Local));
        return facts;
    }

    /// <summary>True for <c>this</c> (the containing instance) or no instance at all (a static member).</summary>
    public static bool IsThisOrStatic(IOperation? instance) =>
        instance is null or IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance };

    /// <summary>True for an array creation or a collection expression without spread elements (every element at a known index).</summary>
    public static bool IsArrayCreation(IOperation value)
    {
        while (value is IConversionOperation conversion)
            value = conversion.Operand;
        return value is IArrayCreationOperation { DimensionSizes.Length: 1 }
            || (value is ICollectionExpressionOperation collection && !collection.Elements.Any(e => e is ISpreadOperation));
    }

    private static ISymbol? Target(IOperation operation) =>
        operation switch
        {
            ILocalReferenceOperation local => local.Local,
            IParameterReferenceOperation parameter => parameter.Parameter,
            IDeclarationExpressionOperation declaration => Target(declaration.Expression),
            _ => null,
        };

    private void Add(ISymbol? symbol, int count)
    {
        if (symbol is not null)
            Add(Writes, symbol, count);
    }

    private static void Add(Dictionary<ISymbol, int> counts, ISymbol symbol, int count)
    {
        counts.TryGetValue(symbol, out var existing);
        counts[symbol] = existing + count;
    }
}
