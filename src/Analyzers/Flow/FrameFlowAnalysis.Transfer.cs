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

    /// <summary>A lambda or a local function turned into a delegate: it may run at any later time, so it sees the
    /// state where it is created (for variables written only once), and a release inside it does not count here
    /// (unless the delegate is invoked in this method: <see cref="OnFunctionCall"/>). A frame it captures is handed
    /// on, as far as WSG003 is concerned.</summary>
    private void OnDelegate(object function, IMethodSymbol symbol, ControlFlowGraph cfg, FlowState state, Graph graph)
    {
        // The delegate may run at any time and reassign fields: they are no longer followed.
        ForgetMembers(state);
        var captured = ReferencedSymbols(function, cfg);
        foreach (var symbolKey in captured)
        {
            if (state.TryGet(symbolKey, out var entry) && entry.Kind == EntryKind.Frame)
                Settle(entry, state);
        }
        if (graph.Report && !_running.Contains(function))
        {
            _running.Add(function);
            RunGraph(cfg, symbol, InitialState(symbol, state, captured, fromCall: false), report: true);
            _running.Remove(function);
        }
    }

    /// <summary>The lambda or local function a delegate creation wraps.</summary>
    private static Function? FunctionOf(IOperation value, Graph graph) =>
        StripConversions(value, _ => true) switch
        {
            IDelegateCreationOperation { Target: IFlowAnonymousFunctionOperation lambda } =>
                new Function(lambda, lambda.Symbol, graph.Cfg.GetAnonymousFunctionControlFlowGraphInScope(lambda)),
            IDelegateCreationOperation { Target: IMethodReferenceOperation { Method: { MethodKind: MethodKind.LocalFunction } method } } =>
                new Function(method.OriginalDefinition, method.OriginalDefinition, graph.Cfg.GetLocalFunctionControlFlowGraphInScope(method.OriginalDefinition)),
            _ => null,
        };

    /// <summary>The lambda or local function behind <c>d()</c> or <c>d.Invoke()</c>, for a delegate local written once.</summary>
    private Function? InvokedDelegate(IInvocationOperation invocation) =>
        invocation.Instance is ILocalReferenceOperation { Local: var local } && _delegates.TryGetValue(local, out var function) ? function : null;

    /// <summary>True for an argument whose frame the analysis follows into the call: a frame parameter of a local
    /// function, of a delegate it follows, or of a method with a summary for that parameter.</summary>
    private bool IsFollowedArgument(IInvocationOperation call, IArgumentOperation argument)
    {
        if (argument.Parameter is not { RefKind: RefKind.None } parameter || !_types.IsFrame(parameter.Type))
            return false;
        var target = call.TargetMethod;
        if (target.MethodKind == MethodKind.LocalFunction)
            return true;
        if (target.MethodKind == MethodKind.DelegateInvoke)
            return InvokedDelegate(call) is not null;
        return ParameterSummaryOf(target, parameter) is not null;
    }

    private ParameterSummary? ParameterSummaryOf(IMethodSymbol target, IParameterSymbol parameter) =>
        _types.IsFrame(parameter.Type) && parameter.RefKind == RefKind.None
            ? _summaries.Get(target, _cancellation).For(parameter.Ordinal)
            : null;

    /// <summary>A call of a method of the compilation with a summary: what it does to each frame passed applies here,
    /// and a read or release of a frame already released is reported at the call. An async method not awaited right
    /// away may not have released yet: its release counts as "some path".</summary>
    private void OnSummarizedCall(IInvocationOperation invocation, FlowState state, Graph graph)
    {
        var target = invocation.TargetMethod;
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is not { } parameter || ParameterSummaryOf(target, parameter) is not { } summary
                || Resolve(state, argument.Value) is not { Kind: EntryKind.Frame } frame)
                continue;
            if (summary.ReadsPayload)
                RecordUse(invocation.Syntax, frame, graph);
            if (summary.Release == ReleaseState.NotReleased)
            {
                if (summary.Settles)
                    Settle(frame, state);
                continue;
            }
            if (graph.Report && frame.State is ReleaseState.Released or ReleaseState.Maybe)
                _findings.AddRelease(invocation.Syntax, frame.State);
            var release = summary.Release;
            if (release == ReleaseState.Released && target.IsAsync && !IsAwaited(invocation))
                release = ReleaseState.Maybe;
            state.UpdateGroup(frame.Group, e =>
            {
                var after = e.State == ReleaseState.Null ? ReleaseState.Null
                    : release == ReleaseState.Released || e.State == ReleaseState.Released ? ReleaseState.Released
                    : ReleaseState.Maybe;
                return e.With(after, null, e.Unsettled && !summary.Settles);
            });
            if (summary.Settles && frame.Group.IsMerged)
                state.UpdateAll(e => e.WithUnsettled(false));
        }
    }

    private static bool IsAwaited(IOperation operation)
    {
        while (operation.Parent is IConversionOperation or IInvocationOperation { TargetMethod.Name: "ConfigureAwait" })
            operation = operation.Parent;
        return operation.Parent is IAwaitOperation;
    }

    /// <summary>A call of a local function, or of a delegate local bound to a lambda or local function: it runs now,
    /// so its effect on the variables it captures and on the frames passed to its parameters applies. A recursive
    /// call is unknown: the captured variables are no longer followed and the frames passed are handed on.</summary>
    private void OnFunctionCall(Function function, IInvocationOperation invocation, FlowState state, Graph graph)
    {
        var captured = ReferencedSymbols(function.Key, function.Cfg);
        var passed = new List<(IParameterSymbol Parameter, Entry Frame)>();
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is { RefKind: RefKind.None } parameter && _types.IsFrame(parameter.Type)
                && parameter.Ordinal < function.Symbol.Parameters.Length
                && Resolve(state, argument.Value) is { Kind: EntryKind.Frame } frame)
                passed.Add((function.Symbol.Parameters[parameter.Ordinal], frame));
        }
        FlowState? exit = null;
        if (!_running.Contains(function.Key))
        {
            var initial = InitialState(function.Symbol, state, captured, fromCall: true);
            foreach (var (parameter, frame) in passed)
                initial.Set(parameter, frame);
            exit = RunCall(function, initial, graph.Report);
        }
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
        foreach (var (parameter, frame) in passed)
        {
            if (exit is not null && exit.TryGet(parameter, out var after) && after.Group.Equals(frame.Group))
                state.UpdateGroup(frame.Group, e => e.With(after.State, after.ReleaseSite, after.Unsettled));
            else
                Settle(frame, state);
        }
        ForgetMembers(state);
    }

    /// <summary>Runs a called function's graph; runs that report nothing are remembered per starting state, so a
    /// call walked again in the next round of a fixed point costs a lookup.</summary>
    private FlowState? RunCall(Function function, FlowState initial, bool report)
    {
        if (!report && _calls.TryGetValue(function.Key, out var known))
        {
            foreach (var (start, end) in known)
            {
                if (start.Equals(initial))
                    return end?.Clone();
            }
        }
        _running.Add(function.Key);
        FlowState? exit;
        try
        {
            exit = RunGraph(function.Cfg, function.Symbol, initial.Clone(), report);
        }
        finally
        {
            _running.Remove(function.Key);
        }
        if (!report)
        {
            if (!_calls.TryGetValue(function.Key, out var runs))
                _calls[function.Key] = runs = new List<(FlowState, FlowState?)>();
            runs.Add((initial, exit?.Clone()));
        }
        return exit;
    }

    /// <summary>The state a method, lambda or local function starts with: its frame parameters (owned when it is an
    /// OnMessage handler; carrying their origin for the summary when it is the analyzed method), the fields and auto-properties of <c>this</c> the
    /// method touches (for the analyzed method and the functions it calls) and, for a nested function, what is known
    /// of the variables it captures.</summary>
    private FlowState InitialState(IMethodSymbol? method, FlowState? outer, HashSet<ISymbol>? captured, bool fromCall)
    {
        var state = new FlowState();
        if (method is not null)
        {
            foreach (var parameter in method.Parameters)
            {
                if (!_types.IsFrame(parameter.Type) || parameter.RefKind != RefKind.None)
                    continue;
                object? origin = _types.IsOwnedParameter(parameter) || (outer is null && SymbolEqualityComparer.Default.Equals(method, _root)) ? parameter : null;
                state.Set(parameter, new Entry(EntryKind.Frame, Group.Site(parameter), ReleaseState.NotReleased, null, origin, origin is not null));
            }
        }
        if (outer is null)
        {
            foreach (var member in _facts.Members)
                state.Set(member, new Entry(_types.IsFrame(MemberType(member)) ? EntryKind.Frame : EntryKind.Derived, Group.Site(member), ReleaseState.NotReleased, null, null, unsettled: false));
            return state;
        }
        if (fromCall)
        {
            foreach (var pair in outer.Entries)
            {
                if (pair.Key is IFieldSymbol or IPropertySymbol)
                    state.Set(pair.Key, pair.Value);
            }
        }
        if (captured is null)
            return state;
        foreach (var symbol in captured)
        {
            if (!outer.TryGet(symbol, out var entry))
                continue;
            if (fromCall)
                state.Set(symbol, entry);
            else if (_facts.WritesOf(symbol) <= 1)
                state.Set(symbol, new Entry(entry.Kind, entry.Group, entry.State, entry.ReleaseSite, null, unsettled: false));
        }
        return state;
    }

    private static ITypeSymbol MemberType(ISymbol member) => member is IFieldSymbol field ? field.Type : ((IPropertySymbol)member).Type;

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
