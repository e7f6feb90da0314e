using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>The transfer functions: how each operation changes the state.</summary>
internal sealed partial class FrameFlowAnalysis
{
    private FlowState Transfer(BasicBlock block, FlowState state, Graph graph)
    {
        graph.Condition = block.ConditionKind != ControlFlowConditionKind.None ? block.BranchValue : null;
        foreach (var operation in block.Operations)
            Visit(operation, state, graph);
        if (block.BranchValue is { } branchValue)
            Visit(branchValue, state, graph);
        return state;
    }

    private void Visit(IOperation operation, FlowState state, Graph graph)
    {
        _cancellation.ThrowIfCancellationRequested();
        switch (operation)
        {
            case IFlowAnonymousFunctionOperation lambda:
                OnDelegate(lambda, lambda.Symbol, graph.Cfg.GetAnonymousFunctionControlFlowGraphInScope(lambda), state, graph);
                return;
            case IDelegateCreationOperation { Target: IMethodReferenceOperation { Method: { MethodKind: MethodKind.LocalFunction } method } }:
                var function = method.OriginalDefinition;
                OnDelegate(function, function, graph.Cfg.GetLocalFunctionControlFlowGraphInScope(function), state, graph);
                return;
            case ISimpleAssignmentOperation { IsRef: true }:
                return; // a ref local bound to a variable: resolved before the walk (BodyFacts.RefLocals)
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation { Local: { RefKind: RefKind.None, Type.IsTupleType: true } tuple } } assignment:
                AssignTuple(tuple, assignment.Value, state, graph);
                return;
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation { Local: var array } } assignment when _facts.OwnArrays.Contains(array):
                AssignArray(array, assignment.Value, state, graph);
                return;
            case ISimpleAssignmentOperation assignment when TrackedKey(assignment.Target) is { } key:
                Visit(assignment.Value, state, graph);
                Assign(key, assignment.Target.Type, assignment.Value, assignment, state);
                return;
            case ISimpleAssignmentOperation { Target: IArrayElementReferenceOperation { ArrayReference: { } written } } assignment
                when ContainerOf(written) is { } container:
                // An element at an index the analysis cannot name: any element may have changed.
                VisitChildren(assignment, state, graph);
                RemoveElements(state, container);
                return;
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation { Local: var delegateLocal } } assignment
                when delegateLocal.Type.TypeKind == TypeKind.Delegate && _facts.WritesOf(delegateLocal) <= 1:
                if (FunctionOf(assignment.Value, graph) is { } created)
                    _delegates[delegateLocal] = created;
                VisitChildren(assignment, state, graph);
                return;
            case IFlowCaptureOperation capture:
                Visit(capture.Value, state, graph);
                if (Resolve(state, capture.Value) is { Kind: EntryKind.Frame } captured)
                    state.Set(capture.Id, captured);
                else if (DerivedOf(state, capture.Value) is { } derived)
                    state.Set(capture.Id, derived);
                else
                    state.Remove(capture.Id);
                return;
            case IPropertyReferenceOperation { Instance: { } instance } property when _types.IsFrameMember(property.Property, "Payload"):
                if (Resolve(state, instance) is { Kind: EntryKind.Frame } payloadOwner)
                    RecordUse(property.Syntax, payloadOwner, graph);
                else
                    Visit(instance, state, graph);
                return;
            case IPropertyReferenceOperation { Instance: { } instance } property when _types.IsFrameMember(property.Property, "IsReleased"):
                if (Resolve(state, instance) is { Kind: EntryKind.Frame } checkedFrame)
                {
                    if (!IsBranchCondition(property, graph))
                        state.RemoveGroup(checkedFrame.Group);
                }
                else
                    Visit(instance, state, graph);
                return;
            case IIsPatternOperation { Pattern: IDeclarationPatternOperation { DeclaredSymbol: ILocalSymbol declared } } pattern
                when _types.IsFrame(declared.Type):
                Visit(pattern.Value, state, graph);
                Assign(declared, declared.Type, pattern.Value, pattern, state);
                return;
            case IIsPatternOperation { Pattern: IRecursivePatternOperation { DeclaredSymbol: ILocalSymbol declared } } pattern
                when _types.IsFrame(declared.Type):
                Visit(pattern.Value, state, graph);
                Assign(declared, declared.Type, pattern.Value, pattern, state);
                return;
            case IInvocationOperation invocation:
                OnInvocation(invocation, state, graph);
                return;
            case IObjectCreationOperation creation:
                VisitChildren(creation, state, graph);
                AfterArguments(creation.Arguments, state);
                return;
            case IAwaitOperation:
                VisitChildren(operation, state, graph);
                ForgetMembers(state);
                return;
            case IDeconstructionAssignmentOperation deconstruction:
                Deconstruct(deconstruction, state, graph);
                return;
            case ILocalReferenceOperation when ContainerOf(operation) is { } container:
                OnContainerReference(operation, container, state);
                return;
            case ILocalReferenceOperation or IParameterReferenceOperation or IFlowCaptureReferenceOperation:
                OnReference(operation, state, graph);
                return;
            case IFieldReferenceOperation or IPropertyReferenceOperation or IArrayElementReferenceOperation when KeyOf(operation) is not null:
                OnReference(operation, state, graph);
                return;
        }
        VisitChildren(operation, state, graph);
    }

    private void OnInvocation(IInvocationOperation invocation, FlowState state, Graph graph)
    {
        VisitChildren(invocation, state, graph);
        var target = invocation.TargetMethod;
        if (invocation.Instance is { } instance && _types.IsRelease(target))
        {
            if (Resolve(state, instance) is { Kind: EntryKind.Frame } released)
                OnRelease(invocation, released, state, graph);
        }
        else if (target.MethodKind == MethodKind.LocalFunction)
        {
            var local = target.OriginalDefinition;
            OnFunctionCall(new Function(local, local, graph.Cfg.GetLocalFunctionControlFlowGraphInScope(local)), invocation, state, graph);
        }
        else if (target.MethodKind == MethodKind.DelegateInvoke && InvokedDelegate(invocation) is { } invoked)
        {
            OnFunctionCall(invoked, invocation, state, graph);
        }
        else
        {
            OnSummarizedCall(invocation, state, graph);
            if (invocation.Instance is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance }
                || invocation.Arguments.Any(a => a.Value.Type?.TypeKind == TypeKind.Delegate))
                ForgetMembers(state);
        }
        AfterArguments(invocation.Arguments, state);
        if (_types.IsTryGetArray(target))
            OnTryGetArray(invocation, state);
    }

    /// <summary><c>MemoryMarshal.TryGetArray(payload, out segment)</c>: the segment aliases the payload.</summary>
    private void OnTryGetArray(IInvocationOperation invocation, FlowState state)
    {
        IOperation? memory = null;
        object? segment = null;
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter?.RefKind == RefKind.Out)
                segment = TrackedKey(argument.Value);
            else
                memory = argument.Value;
        }
        if (memory is not null && segment is not null && DerivedOf(state, memory) is { State: ReleaseState.NotReleased or ReleaseState.Null } derived)
            state.Set(segment, derived);
    }

    /// <summary>A tuple assigned to a local: its frame and payload elements are followed one by one.</summary>
    private void AssignTuple(ILocalSymbol tuple, IOperation value, FlowState state, Graph graph)
    {
        var produced = StripConversions(value, _ => true);
        if (produced is ILocalReferenceOperation { Local: { Type.IsTupleType: true } source } && !SymbolEqualityComparer.Default.Equals(source, tuple))
        {
            RemoveElements(state, tuple);
            foreach (var pair in ElementsOf(state, source))
                state.Set(new ElementKey(tuple, ((ElementKey)pair.Key).Index), pair.Value);
            return;
        }
        if (produced is not ITupleOperation literal)
        {
            Visit(value, state, graph);
            RemoveElements(state, tuple);
            return;
        }
        var elements = new List<(object Key, IOperation Value)>();
        for (var i = 0; i < literal.Elements.Length; i++)
        {
            var element = literal.Elements[i];
            if (IsTrackedType(element.Type))
                elements.Add((new ElementKey(tuple, "Item" + (i + 1)), element));
            VisitHeld(element, state, graph);
        }
        RemoveElements(state, tuple);
        foreach (var (key, element) in elements)
            Assign(key, element.Type, element, element, state);
    }

    /// <summary>An array the method creates: its frame and payload elements are followed by index.</summary>
    private void AssignArray(ILocalSymbol array, IOperation value, FlowState state, Graph graph)
    {
        var elements = StripConversions(value, _ => true) switch
        {
            IArrayCreationOperation { Initializer: { } initializer } => initializer.ElementValues,
            IArrayCreationOperation => ImmutableArray<IOperation>.Empty,
            ICollectionExpressionOperation collection => collection.Elements,
            _ => (ImmutableArray<IOperation>?)null,
        };
        if (elements is not { } values)
        {
            Visit(value, state, graph);
            RemoveElements(state, array);
            return;
        }
        foreach (var element in values)
            VisitHeld(element, state, graph);
        RemoveElements(state, array);
        for (var i = 0; i < values.Length; i++)
        {
            if (IsTrackedType(values[i].Type))
                Assign(new ElementKey(array, i), values[i].Type, values[i], values[i], state);
        }
    }

    /// <summary>Visits a value about to be kept in a local holder: a frame variable is only aliased, not handed on.</summary>
    private void VisitHeld(IOperation value, FlowState state, Graph graph)
    {
        if (Resolve(state, value) is not { Kind: EntryKind.Frame })
            Visit(value, state, graph);
    }

    /// <summary><c>(a, b) = (x, y)</c> and <c>var (a, b) = t</c>: element by element when the right side is a tuple
    /// literal or a followed tuple local; otherwise the targets are no longer followed.</summary>
    private void Deconstruct(IDeconstructionAssignmentOperation deconstruction, FlowState state, Graph graph)
    {
        var targets = StripConversions(deconstruction.Target is IDeclarationExpressionOperation declaration ? declaration.Expression : deconstruction.Target, _ => true) as ITupleOperation;
        var value = StripConversions(deconstruction.Value, _ => true);
        var sources = new List<(object Key, ITypeSymbol? Type, IOperation? Value, object? Element)>();
        if (targets is not null)
        {
            for (var i = 0; i < targets.Elements.Length; i++)
            {
                if (TrackedKey(targets.Elements[i]) is not { } key)
                    continue;
                var type = targets.Elements[i].Type;
                if (value is ITupleOperation literal && literal.Elements.Length == targets.Elements.Length)
                    sources.Add((key, type, literal.Elements[i], null));
                else if (value is ILocalReferenceOperation { Local.Type.IsTupleType: true } tuple && ContainerOf(tuple) is { } container)
                    sources.Add((key, type, null, new ElementKey(container, "Item" + (i + 1))));
                else
                    sources.Add((key, type, null, null));
            }
        }
        if (value is ITupleOperation values)
        {
            foreach (var element in values.Elements)
                VisitHeld(element, state, graph);
        }
        else if (!(value is ILocalReferenceOperation && ContainerOf(value) is not null))
            Visit(deconstruction.Value, state, graph);
        // Read every source before writing any target: (a, b) = (b, a) swaps.
        var resolved = sources.Select(s => (s.Key, s.Type, s.Value,
            Entry: s.Element is { } element && state.TryGet(element, out var held) ? held : (Entry?)null)).ToList();
        var staged = new List<(object Key, Entry? Entry)>();
        foreach (var (key, type, source, held) in resolved)
        {
            if (held is { } entry)
                staged.Add((key, entry));
            else if (source is not null && Resolve(state, source) is { } alias)
                staged.Add((key, alias));
            else if (source is not null && !_types.IsFrame(type) && DerivedOf(state, source) is { State: ReleaseState.NotReleased or ReleaseState.Null } derived)
                staged.Add((key, derived));
            else
                staged.Add((key, null));
        }
        foreach (var written in deconstruction.Target.DescendantsAndSelf())
        {
            if (TrackedKey(written) is { } targetKey)
                state.Remove(targetKey);
        }
        foreach (var (key, entry) in staged)
        {
            if (entry is not { } kept)
                continue;
            state.Set(key, kept);
            if (kept.Kind == EntryKind.Frame && !IsLocalHolder(key))
                Settle(kept, state); // deconstructed into a field: stored
        }
    }

    private void VisitChildren(IOperation operation, FlowState state, Graph graph)
    {
        foreach (var child in operation.ChildOperations)
            Visit(child, state, graph);
    }

    private static bool IsBranchCondition(IOperation operation, Graph graph)
    {
        while (operation.Parent is IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not)
            operation = not;
        return operation.Parent is null && ReferenceEquals(operation, graph.Condition);
    }

    /// <summary>An assignment to a frame or Memory/Span variable: an alias, a fresh frame, or the end of tracking.</summary>
    private void Assign(object key, ITypeSymbol? type, IOperation value, IOperation site, FlowState state)
    {
        if (!_types.IsFrame(type))
        {
            // A value taken from an already released payload was reported where it was read: follow it no further.
            if (DerivedOf(state, value) is { State: ReleaseState.NotReleased or ReleaseState.Null } derived)
                state.Set(key, derived);
            else
                state.Remove(key);
            return;
        }
        if (Resolve(state, value) is { Kind: EntryKind.Frame } alias)
        {
            state.Set(key, alias);
            return;
        }
        var produced = StripConversions(value, _ => true);
        object? origin = produced is IInvocationOperation invocation && _types.IsReadFrame(invocation.TargetMethod) ? invocation : null;
        var group = Group.Site(site);
        Detach(state, group, key);
        var initial = IsNullConstant(produced) ? ReleaseState.Null : ReleaseState.NotReleased;
        state.Set(key, new Entry(EntryKind.Frame, group, initial, null, origin, origin is not null));
    }

    /// <summary>A site runs again (a loop): variables still holding the frame it produced last time keep
    /// their state but no longer alias the new frame.</summary>
    private static void Detach(FlowState state, Group group, object except)
    {
        var stale = state.Entries.Where(p => p.Value.Group.Equals(group) && !KeyComparer.Instance.Equals(p.Key, except)).ToList();
        foreach (var pair in stale)
            state.Set(pair.Key, pair.Value.Detached(group.Anchor, pair.Key));
    }

    /// <summary>Variables passed by ref or out get a value the analysis cannot see.</summary>
    private void AfterArguments(IEnumerable<IArgumentOperation> arguments, FlowState state)
    {
        foreach (var argument in arguments)
        {
            if (argument.Parameter?.RefKind is not (RefKind.Out or RefKind.Ref))
                continue;
            if (TrackedKey(argument.Value) is { } key)
                state.Remove(key);
            else if (ContainerOf(argument.Value) is { } container)
                RemoveElements(state, container);
            else if (argument.Value is IArrayElementReferenceOperation { ArrayReference: { } array } && ContainerOf(array) is { } written)
                RemoveElements(state, written);
        }
    }

    private void OnReference(IOperation reference, FlowState state, Graph graph)
    {
        if (KeyOf(reference) is not { } key || !state.TryGet(key, out var entry))
            return;
        if (entry.Kind == EntryKind.Frame)
        {
            if (!IsBenignFrameReference(reference))
                Settle(entry, state);
            return;
        }
        if (reference is IFlowCaptureReferenceOperation || IsMetadataRead(reference)
            || reference.Parent is IArgumentOperation { Parameter.RefKind: RefKind.Out })
            return;
        RecordUse(reference.Syntax, entry, graph);
    }

    /// <summary><c>m.Length</c>, <c>m.IsEmpty</c> (and an ArraySegment's <c>Count</c> and <c>Offset</c>) read the
    /// struct itself, not the pooled bytes.</summary>
    private static bool IsMetadataRead(IOperation reference) =>
        reference.Parent is IPropertyReferenceOperation { Property.Name: "Length" or "IsEmpty" or "Count" or "Offset" } property
        && ReferenceEquals(property.Instance, reference);

    /// <summary>True when a reference to a frame neither stores it nor hands it to other code: a member access
    /// on it, an alias in a local holder, a null check or a type pattern, IWebSocketConn.WriteFrame (the frame stays
    /// the caller's), or an argument of a call whose effect on it the analysis applies (a summarized method, a local
    /// function or a delegate it follows).</summary>
    private bool IsBenignFrameReference(IOperation reference)
    {
        var operation = reference;
        while (operation.Parent is IConversionOperation conversion && _types.IsFrame(conversion.Type))
            operation = conversion;
        return operation.Parent switch
        {
            IMemberReferenceOperation member => ReferenceEquals(member.Instance, operation),
            IInvocationOperation invocation => ReferenceEquals(invocation.Instance, operation),
            ISimpleAssignmentOperation assignment => ReferenceEquals(assignment.Value, operation)
                && TrackedKey(assignment.Target) is { } key && IsLocalHolder(key),
            IFlowCaptureOperation => true,
            IIsNullOperation or IIsPatternOperation or IBinaryOperation => true,
            IArgumentOperation { Parent: IInvocationOperation call } argument =>
                _types.IsConnMember(call.TargetMethod, "WriteFrame") || IsFollowedArgument(call, argument),
            _ => false,
        };
    }

    /// <summary>The frame was handed on: whoever got it is responsible for releasing it.</summary>
    private static void Settle(Entry entry, FlowState state)
    {
        state.UpdateGroup(entry.Group, e => e.WithUnsettled(false));
        if (entry.Group.IsMerged)
            state.UpdateAll(e => e.WithUnsettled(false));
    }

    private void RecordUse(SyntaxNode node, Entry entry, Graph graph)
    {
        if (!graph.Report)
            return;
        _reads.Add(entry.Group);
        if (entry.State is ReleaseState.Released or ReleaseState.Maybe)
            _findings.AddUse(node, entry.State, entry.ReleaseSite);
    }

    private void OnRelease(IInvocationOperation invocation, Entry frame, FlowState state, Graph graph)
    {
        if (graph.Report && frame.State is ReleaseState.Released or ReleaseState.Maybe)
            _findings.AddRelease(invocation.Syntax, frame.State);
        state.UpdateGroup(frame.Group, e => e.With(ReleaseState.Released, invocation, unsettled: false));
        if (frame.Group.IsMerged)
            state.UpdateAll(e => e.WithUnsettled(false));
    }
}
