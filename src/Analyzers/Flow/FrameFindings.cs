using Microsoft.CodeAnalysis;

namespace WsGen.Analyzers.Flow;

/// <summary>One place where a released (or maybe released) frame is touched.</summary>
internal sealed class Finding
{
    public Finding(SyntaxNode node, ReleaseState state, IOperation? releaseSite)
    {
        Node = node;
        State = state;
        ReleaseSite = releaseSite;
    }

    /// <summary>The use (WSG001) or the Release() invocation (WSG002).</summary>
    public SyntaxNode Node { get; }

    /// <summary><see cref="ReleaseState.Released"/> (every path) or <see cref="ReleaseState.Maybe"/> (some path).</summary>
    public ReleaseState State { get; private set; }

    /// <summary>The one Release() that reaches the use, when it is unique and runs on every path.</summary>
    public IOperation? ReleaseSite { get; private set; }

    /// <summary>Merges another context's view of the same place (a local function reached from two calls).</summary>
    public void Merge(ReleaseState state, IOperation? releaseSite)
    {
        if (state != State)
            State = ReleaseState.Maybe;
        if (!ReferenceEquals(releaseSite, ReleaseSite))
            ReleaseSite = null;
    }
}

/// <summary>What one run of <see cref="FrameFlowAnalysis"/> found, for the rules to report.</summary>
internal sealed class FrameFindings
{
    private readonly Dictionary<SyntaxNode, Finding> _uses = new();
    private readonly Dictionary<SyntaxNode, Finding> _releases = new();
    private readonly Dictionary<SyntaxNode, (SyntaxNode Origin, ISymbol Owner)> _leaks = new();

    /// <summary>WSG001 candidates, in source order.</summary>
    public IEnumerable<Finding> Uses => _uses.Values.OrderBy(f => f.Node.SpanStart);

    /// <summary>WSG002 candidates, in source order.</summary>
    public IEnumerable<Finding> Releases => _releases.Values.OrderBy(f => f.Node.SpanStart);

    /// <summary>WSG003 candidates: the ReadFrame() call or parameter, and the method it belongs to.</summary>
    public IEnumerable<(SyntaxNode Origin, ISymbol Owner)> Leaks => _leaks.Values.OrderBy(l => l.Origin.SpanStart);

    public void AddUse(SyntaxNode node, ReleaseState state, IOperation? releaseSite) => Add(_uses, node, state, releaseSite);

    public void AddRelease(SyntaxNode node, ReleaseState state) => Add(_releases, node, state, null);

    public void AddLeak(SyntaxNode origin, ISymbol owner)
    {
        if (!_leaks.ContainsKey(origin))
            _leaks.Add(origin, (origin, owner));
    }

    private static void Add(Dictionary<SyntaxNode, Finding> map, SyntaxNode node, ReleaseState state, IOperation? releaseSite)
    {
        if (map.TryGetValue(node, out var existing))
            existing.Merge(state, releaseSite);
        else
            map.Add(node, new Finding(node, state, state == ReleaseState.Released ? releaseSite : null));
    }
}
