using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>Calls and nested functions: lambdas and local functions where they are created and where they are called,
/// delegate locals invoked, methods of the compilation through their summaries; and the state each graph starts with.</summary>
internal sealed partial class FrameFlowAnalysis
{
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
        ForgetCapturedElements(captured, state, settle: true);
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
        ForgetCapturedElements(captured, state, settle: false);
        ForgetMembers(state);
    }

    /// <summary>A function that captures a tuple or own-array local may write its elements, which the function's own
    /// graph does not follow: they are forgotten (and, for a delegate that may run anywhere, handed on).</summary>
    private void ForgetCapturedElements(HashSet<ISymbol> captured, FlowState state, bool settle)
    {
        foreach (var symbol in captured)
        {
            if (symbol is not ILocalSymbol { RefKind: RefKind.None } local || !(local.Type.IsTupleType || _facts.OwnArrays.Contains(local)))
                continue;
            if (settle)
            {
                foreach (var pair in ElementsOf(state, local))
                {
                    if (pair.Value.Kind == EntryKind.Frame)
                        Settle(pair.Value, state);
                }
            }
            RemoveElements(state, local);
        }
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
