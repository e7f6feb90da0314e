using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>The variables the analysis follows and their state keys: locals, parameters and flow captures; fields and
/// auto-properties of <c>this</c> (or static ones); elements of tuples held in locals and of arrays the method
/// created, at constant indices; ref locals, which stand for the variable they are bound to.</summary>
internal sealed partial class FrameFlowAnalysis
{
    /// <summary>The state key of a reference, seen through conversions; null when the analysis cannot name the variable.</summary>
    private object? KeyOf(IOperation operation) =>
        StripConversions(operation, IsTrackedType) switch
        {
            ILocalReferenceOperation { Local.RefKind: RefKind.None } local => local.Local,
            ILocalReferenceOperation local => _refTargets.TryGetValue(local.Local, out var target) ? target : null,
            IParameterReferenceOperation parameter => parameter.Parameter,
            IFlowCaptureReferenceOperation capture => capture.Id,
            IDeclarationExpressionOperation declaration => KeyOf(declaration.Expression),
            IFieldReferenceOperation { Field.ContainingType.IsTupleType: true, Instance: ILocalReferenceOperation { Local.RefKind: RefKind.None } tuple } element
                when IsTrackedType(element.Type) => new ElementKey(tuple.Local, (element.Field.CorrespondingTupleField ?? element.Field).Name),
            IFieldReferenceOperation field when BodyFacts.IsThisOrStatic(field.Instance) && _facts.Members.Contains(field.Field) => field.Field,
            IPropertyReferenceOperation property when BodyFacts.IsThisOrStatic(property.Instance) && _facts.Members.Contains(property.Property) => property.Property,
            IArrayElementReferenceOperation { ArrayReference: ILocalReferenceOperation array, Indices.Length: 1 } element
                when _facts.OwnArrays.Contains(array.Local) && element.Indices[0].ConstantValue is { HasValue: true, Value: int index } => new ElementKey(array.Local, index),
            _ => null,
        };

    /// <summary>The key of an assignment target the analysis follows (of a frame or payload type, not passed by ref).</summary>
    private object? TrackedKey(IOperation target)
    {
        if (target is IDeclarationExpressionOperation declaration)
            target = declaration.Expression;
        return target switch
        {
            IParameterReferenceOperation { Parameter.RefKind: not RefKind.None } => null,
            IFlowCaptureReferenceOperation => null,
            _ when !IsTrackedType(target.Type) => null,
            _ => KeyOf(target),
        };
    }

    /// <summary>True for a key that holds the frame for the method itself (a local, a parameter, an element of a
    /// tuple or array in a local): putting a frame there neither stores it nor hands it on.</summary>
    private static bool IsLocalHolder(object key) => key is ILocalSymbol or IParameterSymbol or ElementKey;

    /// <summary>The tuple or own-array local a reference names, when its elements may be followed.</summary>
    private ILocalSymbol? ContainerOf(IOperation operation) =>
        operation is ILocalReferenceOperation { Local: { RefKind: RefKind.None } local }
        && (local.Type.IsTupleType || _facts.OwnArrays.Contains(local)) ? local : null;

    private static void RemoveElements(FlowState state, ILocalSymbol container) =>
        state.RemoveWhere(key => key is ElementKey element && SymbolEqualityComparer.Default.Equals(element.Container, container));

    private static List<KeyValuePair<object, Entry>> ElementsOf(FlowState state, ILocalSymbol container) =>
        state.Entries.Where(p => p.Key is ElementKey element && SymbolEqualityComparer.Default.Equals(element.Container, container)).ToList();

    /// <summary>Fields and properties may be reassigned by other code from here on (a call on <c>this</c>, a local
    /// function or delegate, a lambda created or handed to a call, an await): they are no longer followed.</summary>
    private static void ForgetMembers(FlowState state) => state.RemoveWhere(key => key is IFieldSymbol or IPropertySymbol);

    /// <summary>A reference to a tuple or own-array local other than through one of its followed elements.</summary>
    private void OnContainerReference(IOperation reference, ILocalSymbol container, FlowState state)
    {
        switch (reference.Parent)
        {
            case IFieldReferenceOperation or IArrayElementReferenceOperation:
                return; // an element the analysis does not follow (a non-frame tuple element, a computed index)
            case IPropertyReferenceOperation { Property.Name: "Length" } length when ReferenceEquals(length.Instance, reference):
                return;
        }
        // The container itself goes elsewhere: its frames are handed on; an array may also be written there.
        foreach (var pair in ElementsOf(state, container))
        {
            if (pair.Value.Kind == EntryKind.Frame)
                Settle(pair.Value, state);
        }
        if (!container.Type.IsTupleType)
            RemoveElements(state, container);
    }
}
