using System.Collections.Concurrent;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace WsGen.Analyzers.Flow;

/// <summary>
/// The <see cref="MethodSummary"/> of each method of one compilation, computed on first use and kept for the
/// compilation's lifetime. Safe to share between the analyzer's concurrent callbacks: a summary is computed without
/// a lock (two threads may compute the same one; both get the same result and the first stored wins).
/// </summary>
/// <remarks>
/// Only methods with a body in the compilation that a call cannot dispatch elsewhere (not abstract, virtual or
/// an unsealed override) get a summary; calls into metadata stay unknown. Recursion stays unknown too: a method
/// whose summary needs its own (directly or through other methods), and every method whose summary needs one of
/// those, gets <see cref="MethodSummary.Recursive"/> (unknown), whichever method the computation started from, so results do not
/// depend on the order in which methods are analyzed.
/// </remarks>
internal sealed class SummaryCache
{
    /// <summary>How many summaries may be under computation on one thread, one needing the next: beyond, unknown.</summary>
    private const int MaxNesting = 32;

    [ThreadStatic]
    private static List<Pending>? t_pending;

    private readonly ConcurrentDictionary<IMethodSymbol, MethodSummary> _summaries = new(SymbolEqualityComparer.Default);
    private readonly Compilation _compilation;
    private readonly FrameTypes _types;

    public SummaryCache(Compilation compilation, FrameTypes types)
    {
        _compilation = compilation;
        _types = types;
    }

    /// <summary>The summary of the method a call targets (an extension method in either form, a generic one in any construction).</summary>
    public MethodSummary Get(IMethodSymbol method, CancellationToken cancellation)
    {
        method = (method.ReducedFrom ?? method).OriginalDefinition;
        method = method.PartialImplementationPart ?? method;
        var pending = t_pending ??= new List<Pending>();
        if (_summaries.TryGetValue(method, out var summary))
        {
            if (ReferenceEquals(summary, MethodSummary.Recursive) && pending.Count > 0)
                pending[pending.Count - 1].Poisoned = true;
            return summary;
        }

        for (var i = 0; i < pending.Count; i++)
        {
            if (ReferenceEquals(pending[i].Cache, this) && SymbolEqualityComparer.Default.Equals(pending[i].Method, method))
            {
                pending[pending.Count - 1].Poisoned = true;
                return MethodSummary.Recursive;
            }
        }
        if (pending.Count >= MaxNesting)
        {
            pending[pending.Count - 1].Poisoned = true;
            return MethodSummary.Recursive;
        }

        var own = new Pending(this, method);
        pending.Add(own);
        try
        {
            summary = Compute(method, cancellation);
        }
        finally
        {
            pending.RemoveAt(pending.Count - 1);
        }
        if (own.Poisoned)
        {
            // Depends on a recursive summary: unknown, and so is every summary being computed that needs this one.
            summary = MethodSummary.Recursive;
            if (pending.Count > 0)
                pending[pending.Count - 1].Poisoned = true;
        }
        return _summaries.GetOrAdd(method, summary);
    }

    private MethodSummary Compute(IMethodSymbol method, CancellationToken cancellation)
    {
        if (method.MethodKind != MethodKind.Ordinary || method.IsAbstract || method.IsExtern || method.IsVirtual
            || (method.IsOverride && !method.IsSealed && !method.ContainingType.IsSealed)
            || !method.Parameters.Any(p => p.RefKind == RefKind.None && _types.IsFrame(p.Type)))
            return MethodSummary.Unknown;
        foreach (var reference in method.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellation) is not MethodDeclarationSyntax declaration
                || (declaration.Body is null && declaration.ExpressionBody is null))
                continue;
            try
            {
                // The analyzer driver's compilation hands out its cached semantic models: the body is bound once,
                // for this summary and for the operation block action of the same method.
#pragma warning disable RS1030 // The summary needs the body of another method than the one being analyzed.
                var model = _compilation.GetSemanticModel(declaration.SyntaxTree);
#pragma warning restore RS1030
                if (model.GetOperation(declaration, cancellation) is not IMethodBodyOperation body)
                    return MethodSummary.Unknown;
                var cfg = ControlFlowGraph.Create(body, cancellation);
                return FrameFlowAnalysis.Summarize(cfg, method, _types, this, cancellation);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // A shape the flow graph APIs reject (code that does not compile yet): unknown.
                return MethodSummary.Unknown;
            }
        }
        return MethodSummary.Unknown;
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
