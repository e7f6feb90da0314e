using System.Collections.Concurrent;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>
/// The <see cref="MethodSummary"/> of each method of one compilation, computed once and kept for the compilation's
/// lifetime, and the analysis of method bodies. One run of <see cref="FrameFlowAnalysis"/> gives both a body's
/// findings and its summary: a summary computed because a caller needed it keeps the findings until the method's
/// own operation block arrives, and a body analyzed first stores its summary. Safe to share between the analyzer's
/// concurrent callbacks without a lock: two threads may analyze the same body, both get the same result, the first
/// stored wins.
/// </summary>
/// <remarks>
/// Only ordinary methods with a body in the compilation that a call cannot dispatch elsewhere (not abstract, virtual
/// or an unsealed override) and that take a frame get a summary; calls into metadata stay unknown. Recursion stays
/// unknown too: a method whose summary needs its own (directly or through other methods), and every method whose
/// summary needs one of those, gets <see cref="MethodSummary.Recursive"/>, whichever method the analysis started
/// from, so results do not depend on the order in which methods are analyzed.
/// </remarks>
internal sealed class SummaryCache
{
    /// <summary>How many summaries may be under computation on one thread, one needing the next: beyond, unknown.</summary>
    private const int MaxNesting = 32;

    [ThreadStatic]
    private static List<Pending>? t_pending;

    private readonly ConcurrentDictionary<IMethodSymbol, MethodSummary> _summaries = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, FrameFindings> _findings = new(SymbolEqualityComparer.Default);
    private readonly Compilation _compilation;
    private readonly FrameTypes _types;

    public SummaryCache(Compilation compilation, FrameTypes types)
    {
        _compilation = compilation;
        _types = types;
    }

    /// <summary>The findings of <paramref name="method"/>'s body, whose graph <paramref name="cfg"/> builds: kept
    /// from the run that computed its summary, or from a run now (which stores the summary).</summary>
    public FrameFindings Analyze(IMethodSymbol method, Func<ControlFlowGraph> cfg, CancellationToken cancellation)
    {
        var key = Normalize(method);
        if (_findings.TryRemove(key, out var kept))
            return kept;
        if (!MayHaveSummary(key))
            return FrameFlowAnalysis.Analyze(cfg(), method, _types, this, cancellation).Findings;
        // Run has no findings only when the method is already under analysis on this thread, which a block action
        // (nothing pending below it) never meets.
        return Run(key, () => FrameFlowAnalysis.Analyze(cfg(), method, _types, this, cancellation), keepFindings: false).Findings
            ?? new FrameFindings();
    }

    /// <summary>The summary of the method a call targets (an extension method in either form, a generic one in any construction).</summary>
    public MethodSummary Get(IMethodSymbol method, CancellationToken cancellation)
    {
        method = Normalize(method);
        var pending = t_pending ??= new List<Pending>();
        if (_summaries.TryGetValue(method, out var summary))
        {
            if (ReferenceEquals(summary, MethodSummary.Recursive) && pending.Count > 0)
                pending[pending.Count - 1].Poisoned = true;
            return summary;
        }
        if (!MayHaveSummary(method))
            return MethodSummary.Unknown;
        return Run(method, () => AnalyzeDeclaration(method, cancellation), keepFindings: true).Summary;
    }

    /// <summary>Runs <paramref name="analyze"/> for <paramref name="method"/> with the recursion bookkeeping, and stores
    /// the summary (and, when <paramref name="keepFindings"/>, the findings for the method's own block).</summary>
    private (MethodSummary Summary, FrameFindings? Findings) Run(
        IMethodSymbol method, Func<(FrameFindings Findings, MethodSummary Summary)?> analyze, bool keepFindings)
    {
        var pending = t_pending ??= new List<Pending>();
        for (var i = 0; i < pending.Count; i++)
        {
            if (ReferenceEquals(pending[i].Cache, this) && SymbolEqualityComparer.Default.Equals(pending[i].Method, method))
            {
                pending[pending.Count - 1].Poisoned = true;
                return (MethodSummary.Recursive, null);
            }
        }
        if (pending.Count >= MaxNesting)
        {
            pending[pending.Count - 1].Poisoned = true;
            return (MethodSummary.Recursive, null);
        }

        var own = new Pending(this, method);
        pending.Add(own);
        (FrameFindings Findings, MethodSummary Summary)? result;
        try
        {
            result = analyze();
        }
        finally
        {
            pending.RemoveAt(pending.Count - 1);
        }
        var summary = result?.Summary ?? MethodSummary.Unknown;
        if (own.Poisoned)
        {
            // Depends on a recursive summary: unknown, and so is every summary being computed that needs this one.
            summary = MethodSummary.Recursive;
            if (pending.Count > 0)
                pending[pending.Count - 1].Poisoned = true;
        }
        summary = _summaries.GetOrAdd(method, summary);
        if (keepFindings && result is { Findings: var findings })
            _findings.TryAdd(method, findings);
        return (summary, result?.Findings);
    }

    private static IMethodSymbol Normalize(IMethodSymbol method)
    {
        method = (method.ReducedFrom ?? method).OriginalDefinition;
        return method.PartialImplementationPart ?? method;
    }

    private bool MayHaveSummary(IMethodSymbol method) =>
        method.MethodKind == MethodKind.Ordinary && !method.IsAbstract && !method.IsExtern && !method.IsVirtual
        && !(method.IsOverride && !method.IsSealed && !method.ContainingType.IsSealed)
        && method.Parameters.Any(p => p.RefKind == RefKind.None && _types.IsFrame(p.Type));

    /// <summary>Analyzes the body of a method other than the one whose block is being analyzed.</summary>
    private (FrameFindings Findings, MethodSummary Summary)? AnalyzeDeclaration(IMethodSymbol method, CancellationToken cancellation)
    {
        foreach (var reference in method.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellation) is not MethodDeclarationSyntax declaration
                || (declaration.Body is null && declaration.ExpressionBody is null))
                continue;
            try
            {
                // The analyzer driver's compilation hands out its cached semantic models: the body is bound once,
                // for this analysis and for the compiler's own diagnostics.
#pragma warning disable RS1030 // The summary needs the body of another method than the one being analyzed.
                var model = _compilation.GetSemanticModel(declaration.SyntaxTree);
#pragma warning restore RS1030
                if (model.GetOperation(declaration, cancellation) is not IMethodBodyOperation body)
                    return null;
                return FrameFlowAnalysis.Analyze(ControlFlowGraph.Create(body, cancellation), method, _types, this, cancellation);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // A shape the flow graph APIs reject (code that does not compile yet): unknown.
                return null;
            }
        }
        return null;
    }

    /// <summary>A summary under computation on this thread.</summary>
    private sealed class Pending
    {
        public Pending(SummaryCache cache, IMethodSymbol method)
        {
            Cache = cache;
            Method = method;
        }

        public SummaryCache Cache { get; }

        public IMethodSymbol Method { get; }

        /// <summary>True when the summary depends on a recursive one.</summary>
        public bool Poisoned { get; set; }
    }
}
