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
            case ISimpleAssignmentOperation assignment when TrackedKey(assignment.Target) is { } key:
                Visit(assignment.Value, state, graph);
                Assign(key, assignment.Target.Type, assignment.Value, assignment, state);
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
            case IInvocationOperation invocation:
                VisitChildren(invocation, state, graph);
                if (invocation.Instance is { } target && _types.IsRelease(invocation.TargetMethod)
                    && Resolve(state, target) is { Kind: EntryKind.Frame } released)
                    OnRelease(invocation, released, state, graph);
                else if (invocation.TargetMethod.MethodKind == MethodKind.LocalFunction)
                    OnLocalFunctionCall(invocation, state, graph);
                AfterArguments(invocation.Arguments, state);
                return;
            case IObjectCreationOperation creation:
                VisitChildren(creation, state, graph);
                AfterArguments(creation.Arguments, state);
                return;
            case IDeconstructionAssignmentOperation deconstruction:
                VisitChildren(deconstruction, state, graph);
                foreach (var written in deconstruction.Target.DescendantsAndSelf())
                {
                    if (TrackedKey(written) is { } targetKey)
                        state.Remove(targetKey);
                }
                return;
            case ILocalReferenceOperation or IParameterReferenceOperation or IFlowCaptureReferenceOperation:
                OnReference(operation, state, graph);
                return;
        }
        VisitChildren(operation, state, graph);
    }

    private void VisitChildren(IOperation operation, FlowState state, Graph graph)
    {
        foreach (var child in operation.ChildOperations)
            Visit(child, state, graph);
    }

    private object? TrackedKey(IOperation target) =>
        target switch
        {
            ILocalReferenceOperation local when IsTrackedType(local.Local.Type) && local.Local.RefKind == RefKind.None => local.Local,
            IParameterReferenceOperation parameter when IsTrackedType(parameter.Parameter.Type) && parameter.Parameter.RefKind == RefKind.None => parameter.Parameter,
            _ => null,
        };

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
            if (argument.Parameter?.RefKind is not (RefKind.Out or RefKind.Ref) || TrackedKey(argument.Value) is not { } key)
                continue;
            state.Remove(key);
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

    /// <summary><c>m.Length</c> and <c>m.IsEmpty</c> read the Memory/Span struct itself, not the pooled bytes.</summary>
    private static bool IsMetadataRead(IOperation reference) =>
        reference.Parent is IPropertyReferenceOperation { Property.Name: "Length" or "IsEmpty" } property
        && ReferenceEquals(property.Instance, reference);

    /// <summary>True when a reference to a frame neither stores it nor hands it to other code: a member access
    /// on it, an alias in a tracked local, a null check, or IWebSocketConn.WriteFrame (the frame stays the caller's).</summary>
    private bool IsBenignFrameReference(IOperation reference)
    {
        var operation = reference;
        while (operation.Parent is IConversionOperation conversion && _types.IsFrame(conversion.Type))
            operation = conversion;
        return operation.Parent switch
        {
            IMemberReferenceOperation member => ReferenceEquals(member.Instance, operation),
            IInvocationOperation invocation => ReferenceEquals(invocation.Instance, operation),
            ISimpleAssignmentOperation assignment => ReferenceEquals(assignment.Value, operation) && TrackedKey(assignment.Target) is not null,
            IFlowCaptureOperation => true,
            IIsNullOperation or IIsPatternOperation or IBinaryOperation => true,
            IArgumentOperation { Parent: IInvocationOperation call } => _types.IsConnMember(call.TargetMethod, "WriteFrame"),
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
        if (graph.Report && entry.State is ReleaseState.Released or ReleaseState.Maybe)
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

    /// <summary>A lambda or a local function turned into a delegate: it may run at any later time, so it sees the
    /// state where it is created (for variables written only once), and a release inside it does not count here.
    /// A frame it captures is handed on, as far as WSG003 is concerned.</summary>
    private void OnDelegate(object function, IMethodSymbol symbol, ControlFlowGraph cfg, FlowState state, Graph graph)
    {
        var captured = ReferencedSymbols(function, cfg);
        foreach (var symbolKey in captured)
        {
            if (state.TryGet(symbolKey, out var entry) && entry.Kind == EntryKind.Frame)
                Settle(entry, state);
        }
        if (graph.Report && graph.Depth < MaxDepth)
            RunGraph(cfg, symbol, InitialState(symbol, state, captured, fromCall: false), report: true, graph.Depth + 1);
    }

    /// <summary>A direct call of a local function: it runs now, so its effect on the variables it captures applies.</summary>
    private void OnLocalFunctionCall(IInvocationOperation invocation, FlowState state, Graph graph)
    {
        var function = invocation.TargetMethod.OriginalDefinition;
        var cfg = graph.Cfg.GetLocalFunctionControlFlowGraphInScope(function);
        var captured = ReferencedSymbols(function, cfg);
        var exit = graph.Depth < MaxDepth
            ? RunGraph(cfg, function, InitialState(function, state, captured, fromCall: true), graph.Report, graph.Depth + 1)
            : null;
        foreach (var symbol in captured)
        {
            if (!state.TryGet(symbol, out var before))
                continue;
            if (exit is not null && exit.TryGet(symbol, out var after))
            {
                if (after.Group.Equals(before.Group))
                    state.UpdateGroup(before.Group, e => e.With(after.State, after.ReleaseSite, after.Unsettled));
                else
                    state.Set(symbol, after);
            }
            else
            {
                state.Remove(symbol);
            }
        }
    }

    /// <summary>The state a method, lambda or local function starts with: its frame parameters (owned when it is an
    /// OnMessage handler) and, for a nested function, what is known of the variables it captures.</summary>
    private FlowState InitialState(IMethodSymbol? method, FlowState? outer, HashSet<ISymbol>? captured, bool fromCall)
    {
        var state = new FlowState();
        if (method is not null)
        {
            foreach (var parameter in method.Parameters)
            {
                if (!_types.IsFrame(parameter.Type) || parameter.RefKind != RefKind.None)
                    continue;
                object? origin = _types.IsOwnedParameter(parameter) ? parameter : null;
                state.Set(parameter, new Entry(EntryKind.Frame, Group.Site(parameter), ReleaseState.NotReleased, null, origin, origin is not null));
            }
        }
        if (outer is null || captured is null)
            return state;
        foreach (var symbol in captured)
        {
            if (!outer.TryGet(symbol, out var entry))
                continue;
            if (fromCall)
                state.Set(symbol, entry);
            else if (!_writes.TryGetValue(symbol, out var writes) || writes <= 1)
                state.Set(symbol, new Entry(entry.Kind, entry.Group, entry.State, entry.ReleaseSite, null, unsettled: false));
        }
        return state;
    }

    /// <summary>The locals and parameters a nested function's body refers to (including its own nested functions).</summary>
    private HashSet<ISymbol> ReferencedSymbols(object function, ControlFlowGraph cfg)
    {
        if (_referenced.TryGetValue(function, out var cached))
            return cached;
        var result = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        _referenced[function] = result;
        foreach (var block in cfg.Blocks)
        {
            foreach (var root in block.Operations.Concat(block.BranchValue is { } value ? new[] { value } : Array.Empty<IOperation>()))
            {
                foreach (var operation in root.DescendantsAndSelf())
                {
                    switch (operation)
                    {
                        case ILocalReferenceOperation local:
                            result.Add(local.Local);
                            break;
                        case IParameterReferenceOperation parameter:
                            result.Add(parameter.Parameter);
                            break;
                        case IFlowAnonymousFunctionOperation lambda:
                            result.UnionWith(ReferencedSymbols(lambda, cfg.GetAnonymousFunctionControlFlowGraphInScope(lambda)));
                            break;
                        case IInvocationOperation { TargetMethod.MethodKind: MethodKind.LocalFunction } call:
                            var callee = call.TargetMethod.OriginalDefinition;
                            result.UnionWith(ReferencedSymbols(callee, cfg.GetLocalFunctionControlFlowGraphInScope(callee)));
                            break;
                        case IMethodReferenceOperation { Method.MethodKind: MethodKind.LocalFunction } reference:
                            var referenced = reference.Method.OriginalDefinition;
                            result.UnionWith(ReferencedSymbols(referenced, cfg.GetLocalFunctionControlFlowGraphInScope(referenced)));
                            break;
                    }
                }
            }
        }
        return result;
    }
}
