using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>Counts how many times each local or parameter is written in a method (lambdas included): a lambda
/// can only trust the state at its creation for a variable written at most once.</summary>
internal static class WriteCounter
{
    public static Dictionary<ISymbol, int> Count(IOperation root)
    {
        var writes = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        foreach (var operation in root.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation { Initializer: not null } declarator:
                    Add(writes, declarator.Symbol, 1);
                    break;
                case IVariableDeclaratorOperation { Parent: IVariableDeclarationOperation { Initializer: not null } } declarator:
                    Add(writes, declarator.Symbol, 1);
                    break;
                case ISimpleAssignmentOperation assignment:
                    Add(writes, Target(assignment.Target), 1);
                    break;
                case ICompoundAssignmentOperation compound:
                    Add(writes, Target(compound.Target), 2);
                    break;
                case IIncrementOrDecrementOperation increment:
                    Add(writes, Target(increment.Target), 2);
                    break;
                case IDeconstructionAssignmentOperation deconstruction:
                    foreach (var target in deconstruction.Target.DescendantsAndSelf())
                        Add(writes, Target(target), 2);
                    break;
                case IArgumentOperation { Parameter.RefKind: RefKind.Out or RefKind.Ref } argument:
                    Add(writes, Target(argument.Value), 2);
                    break;
                case IDeclarationPatternOperation { DeclaredSymbol: { } declared }:
                    Add(writes, declared, 1);
                    break;
            }
        }
        return writes;
    }

    private static ISymbol? Target(IOperation operation) =>
        operation switch
        {
            ILocalReferenceOperation local => local.Local,
            IParameterReferenceOperation parameter => parameter.Parameter,
            IDeclarationExpressionOperation declaration => Target(declaration.Expression),
            _ => null,
        };

    private static void Add(Dictionary<ISymbol, int> writes, ISymbol? symbol, int count)
    {
        if (symbol is null)
            return;
        writes.TryGetValue(symbol, out var existing);
        writes[symbol] = existing + count;
    }
}
