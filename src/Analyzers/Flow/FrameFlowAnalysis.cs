using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>
/// The flow analysis shared by WSG001, WSG002 and WSG003. It walks a method's <see cref="ControlFlowGraph"/>
/// to a fixed point, tracking for each local, parameter and flow capture that holds a WebSocketFrame (or a
/// Memory/Span derived from its payload) whether the frame has been released on every path, on some path,
/// or on none, and whether a frame the method owns has been released or handed on. A final pass over the
/// converged states records the findings; lambdas and local functions are analyzed as their own graphs,
/// starting from the state where they are created or called.
/// </summary>
/// <remarks>
/// Every doubt resolves to silence: a variable whose value cannot be followed (merged from different frames
/// and then aliased, passed by ref, checked through a stored <c>IsReleased</c>) is dropped from the state.
/// </remarks>
internal sealed partial class FrameFlowAnalysis
{
    private const int MaxRounds = 64;

    private readonly FrameTypes _types;
    private readonly SummaryCache _summaries;
    private readonly BodyFacts _facts;
    private readonly FrameFindings _findings = new();
    private readonly Dictionary<object, HashSet<ISymbol>> _referenced = new(KeyComparer.Instance);
    private readonly Dictionary<ILocalSymbol, object> _refTargets = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ILocalSymbol, Function> _delegates = new(SymbolEqualityComparer.Default);
    private readonly HashSet<object> _running = new(KeyComparer.Instance);
    private readonly Dictionary<object, List<(FlowState Initial, FlowState? Exit)>> _calls = new(KeyComparer.Instance);
    private readonly CancellationToken _cancellation;

    /// <summary>The frames whose payload is read (in the final pass), for the summary.</summary>
    private readonly HashSet<Group> _reads = new();

    /// <summary>The method being analyzed: its frame parameters carry their origin, so that its summary can tell
    /// whether it settles them (WSG003 only reports the parameter of an OnMessage handler).</summary>
    private readonly IMethodSymbol _root;

    private FrameFlowAnalysis(ControlFlowGraph cfg, IMethodSymbol root, FrameTypes types, SummaryCache summaries, CancellationToken cancellation)
    {
        _types = types;
        _summaries = summaries;
        _root = root;
        _facts = BodyFacts.Collect(cfg.OriginalOperation, types);
        _cancellation = cancellation;
        foreach (var (local, target) in _facts.RefLocals)
        {
            if (KeyOf(target) is { } key)
                _refTargets[local] = key;
            else if (StripConversions(target, _ => true) is IArrayElementReferenceOperation { ArrayReference: ILocalReferenceOperation array })
                _facts.OwnArrays.Remove(array.Local); // a ref to an element the analysis cannot name: the array is no longer followed
        }
    }

    /// <summary>Analyzes one method body (with its lambdas and local functions): what the rules report, and what the
    /// method does to the frames its parameters receive (see <see cref="MethodSummary"/>).</summary>
    public static (FrameFindings Findings, MethodSummary Summary) Analyze(
        ControlFlowGraph cfg, IMethodSymbol method, FrameTypes types, SummaryCache summaries, CancellationToken cancellation)
    {
        var analysis = new FrameFlowAnalysis(cfg, method, types, summaries, cancellation);
        var exit = analysis.RunGraph(cfg, method, analysis.InitialState(method, null, null, fromCall: false), report: true);
        var parameters = new ParameterSummary?[method.Parameters.Length];
        foreach (var parameter in method.Parameters)
        {
            // A parameter the method writes may hold another frame at the end: unknown.
            if (exit is null || analysis._facts.WritesOf(parameter) > 0 || !exit.TryGet(parameter, out var entry)
                || entry.Kind != EntryKind.Frame || !entry.Group.Equals(Group.Site(parameter)))
                continue;
            var release = entry.State == ReleaseState.Null ? ReleaseState.NotReleased : entry.State;
            parameters[parameter.Ordinal] = new ParameterSummary(release, analysis._reads.Contains(entry.Group), settles: !entry.Unsettled);
        }
        return (analysis._findings, new MethodSummary(parameters));
    }

    /// <summary>A lambda or local function the analysis can run where it is called.</summary>
    private sealed class Function
    {
        public Function(object key, IMethodSymbol symbol, ControlFlowGraph cfg)
        {
            Key = key;
            Symbol = symbol;
            Cfg = cfg;
        }

        /// <summary>The lambda's operation or the local function's symbol.</summary>
        public object Key { get; }

        public IMethodSymbol Symbol { get; }

        public ControlFlowGraph Cfg { get; }
    }

    /// <summary>The context of one graph being walked.</summary>
    private sealed class Graph
    {
        public Graph(ControlFlowGraph cfg, IMethodSymbol? method)
        {
            Cfg = cfg;
            Method = method;
        }

        public ControlFlowGraph Cfg { get; }

        public IMethodSymbol? Method { get; }

        /// <summary>True during the final pass, when findings are recorded.</summary>
        public bool Report { get; set; }

        /// <summary>The conditional branch value of the block being walked (refined on its outgoing edges).</summary>
        public IOperation? Condition { get; set; }
    }

    /// <summary>Runs one graph to a fixed point from <paramref name="initial"/>; returns the state at its exit,
    /// or null when the exit is unreachable or the graph did not converge (then nothing is reported).</summary>
    private FlowState? RunGraph(ControlFlowGraph cfg, IMethodSymbol? method, FlowState initial, bool report)
    {
        var blocks = cfg.Blocks;
        var entries = new FlowState?[blocks.Length];
        var exits = new FlowState?[blocks.Length];
        var graph = new Graph(cfg, method);
        var converged = false;
        for (var round = 0; round < MaxRounds && !converged; round++)
        {
            _cancellation.ThrowIfCancellationRequested();
            converged = true;
            foreach (var block in blocks)
            {
                var state = BlockEntry(block, initial, entries, exits, graph);
                if (state is null || (entries[block.Ordinal] is { } old && old.Equals(state) && exits[block.Ordinal] is not null))
                    continue;
                entries[block.Ordinal] = state;
                exits[block.Ordinal] = Transfer(block, state.Clone(), graph);
                converged = false;
            }
        }
        if (!converged)
            return null;

        var exitState = entries[blocks.Length - 1];
        if (!report)
            return exitState;

        graph.Report = true;
        foreach (var block in blocks)
        {
            if (entries[block.Ordinal] is { } state)
                Transfer(block, state.Clone(), graph);
        }
        if (exitState is not null && method is not null)
            RecordLeaks(exitState, cfg, method);
        foreach (var localFunction in cfg.LocalFunctions)
        {
            if (_running.Contains(localFunction))
                continue;
            _running.Add(localFunction);
            RunGraph(cfg.GetLocalFunctionControlFlowGraph(localFunction), localFunction,
                InitialState(localFunction, null, null, fromCall: false), report: true);
            _running.Remove(localFunction);
        }
        return exitState;
    }

    private void RecordLeaks(FlowState exitState, ControlFlowGraph cfg, IMethodSymbol method)
    {
        foreach (var pair in exitState.Entries)
        {
            var entry = pair.Value;
            if (entry.Kind != EntryKind.Frame || !entry.Unsettled)
                continue;
            switch (entry.Origin)
            {
                case IParameterSymbol parameter when SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol, method)
                    && _types.IsOwnedParameter(parameter):
                    if (parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_cancellation) is { } syntax)
                        _findings.AddLeak(syntax, method);
                    break;
                case IOperation origin when cfg.OriginalOperation.Syntax.Span.Contains(origin.Syntax.Span):
                    _findings.AddLeak(origin.Syntax, method);
                    break;
            }
        }
    }

    /// <summary>The state at the start of <paramref name="block"/>: the join of what flows in along its edges,
    /// and for a catch, filter or finally handler, of every state inside the protected try region.</summary>
    private FlowState? BlockEntry(BasicBlock block, FlowState initial, FlowState?[] entries, FlowState?[] exits, Graph graph)
    {
        if (block.Kind == BasicBlockKind.Entry)
            return initial.Clone();
        FlowState? result = null;
        foreach (var branch in block.Predecessors)
            result = JoinInto(result, AlongBranch(branch, exits, graph), block);
        if (ProtectedRegion(block) is { } tryRegion)
        {
            for (var i = tryRegion.FirstBlockOrdinal; i <= tryRegion.LastBlockOrdinal; i++)
            {
                result = JoinInto(result, entries[i], block);
                result = JoinInto(result, exits[i], block);
            }
        }
        return result;
    }

    private static FlowState? JoinInto(FlowState? accumulated, FlowState? incoming, BasicBlock anchor) =>
        incoming is null ? accumulated : accumulated is null ? incoming : FlowState.Join(accumulated, incoming, anchor);

    /// <summary>The state flowing along <paramref name="branch"/>: through the finally handlers it runs, and
    /// refined by the branch condition (null checks, IsReleased).</summary>
    private FlowState? AlongBranch(ControlFlowBranch branch, FlowState?[] exits, Graph graph)
    {
        var source = branch.Source;
        if (exits[source.Ordinal] is not { } state)
            return null;
        if (source.ConditionKind != ControlFlowConditionKind.None && source.BranchValue is { } condition)
        {
            var whenTrue = source.ConditionKind == ControlFlowConditionKind.WhenTrue;
            state = state.Clone();
            Refine(state, condition, branch.IsConditionalSuccessor ? whenTrue : !whenTrue);
        }
        foreach (var region in branch.FinallyRegions)
        {
            if (RunFinally(region, state, graph) is not { } after)
                return null;
            state = after;
        }
        return state;
    }

    /// <summary>The state after the finally handler <paramref name="region"/> runs from <paramref name="start"/>:
    /// the handler's blocks walked to a fixed point on their own, so that a branch leaving a try sees exactly
    /// what the finally did to the state the branch had.</summary>
    private FlowState? RunFinally(ControlFlowRegion region, FlowState start, Graph graph)
    {
        var blocks = graph.Cfg.Blocks;
        var entries = new FlowState?[blocks.Length];
        var exits = new FlowState?[blocks.Length];
        for (var round = 0; round < MaxRounds; round++)
        {
            var changed = false;
            for (var i = region.FirstBlockOrdinal; i <= region.LastBlockOrdinal; i++)
            {
                var block = blocks[i];
                var state = i == region.FirstBlockOrdinal ? start : BlockEntry(block, start, entries, exits, graph);
                if (state is null || (entries[i] is { } old && old.Equals(state) && exits[i] is not null))
                    continue;
                entries[i] = state;
                exits[i] = Transfer(block, state.Clone(), graph);
                changed = true;
            }
            if (!changed)
                return exits[region.LastBlockOrdinal];
        }
        return null;
    }

    /// <summary>For the first block of a catch, filter or finally handler: the try region it protects.</summary>
    private static ControlFlowRegion? ProtectedRegion(BasicBlock block)
    {
        for (var region = block.EnclosingRegion; region is not null && region.FirstBlockOrdinal == block.Ordinal; region = region.EnclosingRegion)
        {
            if (region.Kind is not (ControlFlowRegionKind.Catch or ControlFlowRegionKind.Filter or ControlFlowRegionKind.Finally))
                continue;
            var parent = region.EnclosingRegion;
            if (parent?.Kind == ControlFlowRegionKind.FilterAndHandler)
                parent = parent.EnclosingRegion;
            return parent?.NestedRegions.FirstOrDefault(r => r.Kind == ControlFlowRegionKind.Try);
        }
        return null;
    }

    /// <summary>Narrows <paramref name="state"/> on the edge where <paramref name="condition"/> is <paramref name="value"/>.</summary>
    private void Refine(FlowState state, IOperation condition, bool value)
    {
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                Refine(state, not.Operand, !value);
                break;
            case IPropertyReferenceOperation { Instance: { } instance } property when _types.IsFrameMember(property.Property, "IsReleased"):
                if (Resolve(state, instance) is { Kind: EntryKind.Frame } frame)
                {
                    state.UpdateGroup(frame.Group, e => value
                        ? e.With(ReleaseState.Released, e.ReleaseSite, unsettled: false)
                        : e.With(ReleaseState.NotReleased, null, e.Unsettled));
                }
                break;
            case IIsNullOperation isNull:
                if (value)
                    MarkNull(state, isNull.Operand);
                break;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary:
                var isNullWhen = binary.OperatorKind == BinaryOperatorKind.Equals ? value : !value;
                if (!isNullWhen)
                    break;
                if (IsNullConstant(binary.RightOperand))
                    MarkNull(state, binary.LeftOperand);
                else if (IsNullConstant(binary.LeftOperand))
                    MarkNull(state, binary.RightOperand);
                break;
            case IIsPatternOperation { Pattern: IConstantPatternOperation constant } pattern when IsNullConstant(constant.Value):
                if (value)
                    MarkNull(state, pattern.Value);
                break;
            case IIsPatternOperation { Pattern: INegatedPatternOperation { Pattern: IConstantPatternOperation constant } } pattern when IsNullConstant(constant.Value):
                if (!value)
                    MarkNull(state, pattern.Value);
                break;
        }
    }

    /// <summary>On a path where the frame is null, nothing can be read from it and nothing needs releasing.</summary>
    private void MarkNull(FlowState state, IOperation operand)
    {
        if (Resolve(state, operand) is { Kind: EntryKind.Frame } frame)
            state.UpdateGroup(frame.Group, e => e.Kind == EntryKind.Frame ? e.With(ReleaseState.Null, null, unsettled: false) : e);
    }

    private static bool IsNullConstant(IOperation operation)
    {
        operation = StripConversions(operation, _ => true);
        return operation is IDefaultValueOperation || (operation.ConstantValue.HasValue && operation.ConstantValue.Value is null);
    }

    private static IOperation StripConversions(IOperation operation, Func<ITypeSymbol?, bool> keep)
    {
        while (operation is IConversionOperation conversion && keep(conversion.Type))
            operation = conversion.Operand;
        return operation;
    }

    private bool IsTrackedType(ITypeSymbol? type) => _types.IsTracked(type);

    private Entry? Resolve(FlowState state, IOperation operation) =>
        KeyOf(operation) is { } key && state.TryGet(key, out var entry) ? entry : null;

    /// <summary>The frame entry <paramref name="operation"/> derives from, when it is a frame's Payload,
    /// a Memory/Span local taken from it, its Span, a Slice or a range of any of these.</summary>
    private Entry? DerivedOf(FlowState state, IOperation operation)
    {
        operation = StripConversions(operation, IsTrackedType);
        switch (operation)
        {
            case IPropertyReferenceOperation { Instance: { } instance } property when _types.IsFrameMember(property.Property, "Payload"):
                return Resolve(state, instance) is { Kind: EntryKind.Frame } frame ? frame.AsDerived() : null;
            case IPropertyReferenceOperation { Instance: { } instance, Property.Name: "Span" } property
                when _types.IsPayloadLike(instance.Type) && _types.IsPayloadLike(property.Type):
                return DerivedOf(state, instance);
            case IInvocationOperation { Instance: { } instance, TargetMethod.Name: "Slice" } invocation
                when _types.IsPayloadLike(instance.Type) && _types.IsPayloadLike(invocation.Type):
                return DerivedOf(state, instance);
            case IImplicitIndexerReferenceOperation indexer when _types.IsPayloadLike(indexer.Type):
                return DerivedOf(state, indexer.Instance);
            default:
                return Resolve(state, operation) is { Kind: EntryKind.Derived } derived ? derived : null;
        }
    }
}
