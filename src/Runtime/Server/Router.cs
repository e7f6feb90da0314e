using System.Collections.Frozen;
using System.Text;

namespace WsGen.Server;

/// <summary>Finds the endpoint of a request path (an exact match, else the endpoint mapped at "*", else none), and the
/// static page of a plain GET. Looking a path up from the request's bytes allocates nothing.</summary>
internal sealed class Router
{
    /// <summary>Paths up to this many bytes are decoded on the stack; longer ones (rare) as a string.</summary>
    private const int StackPathLength = 256;

    private readonly FrozenDictionary<string, Endpoint> _exact;
    private readonly FrozenDictionary<string, Endpoint>.AlternateLookup<ReadOnlySpan<char>> _exactBySpan;
    private readonly Endpoint? _fallback;
    private readonly FrozenDictionary<string, StaticPage> _pages;
    private readonly FrozenDictionary<string, StaticPage>.AlternateLookup<ReadOnlySpan<char>> _pagesBySpan;

    public Router(IEnumerable<Endpoint> endpoints, IReadOnlyDictionary<string, StaticPage>? pages = null)
    {
        _pages = (pages ?? new Dictionary<string, StaticPage>()).ToFrozenDictionary(StringComparer.Ordinal);
        var exact = new Dictionary<string, Endpoint>(StringComparer.Ordinal);
        foreach (var e in endpoints)
        {
            if (e.Path == "*")
                _fallback = e;
            else
                exact[e.Path] = e;
        }
        _exact = exact.ToFrozenDictionary(StringComparer.Ordinal);
        _exactBySpan = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _pagesBySpan = _pages.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public Endpoint? Find(string path) => Find(path.AsSpan());

    public Endpoint? Find(ReadOnlySpan<char> path) => _exactBySpan.TryGetValue(path, out var e) ? e : _fallback;

    /// <summary>Finds the endpoint of a path given as the request's ASCII bytes.</summary>
    public Endpoint? Find(ReadOnlySpan<byte> path)
    {
        if (path.Length > StackPathLength)
            return Find(Encoding.ASCII.GetString(path));
        Span<char> chars = stackalloc char[StackPathLength];
        int n = Encoding.ASCII.GetChars(path, chars);
        return Find(chars[..n]);
    }

    public StaticPage? FindPage(string path) => FindPage(path.AsSpan());

    public StaticPage? FindPage(ReadOnlySpan<char> path) => _pages.Count != 0 && _pagesBySpan.TryGetValue(path, out var page) ? page : null;

    /// <summary>Finds the static page of a path given as the request's ASCII bytes.</summary>
    public StaticPage? FindPage(ReadOnlySpan<byte> path)
    {
        if (_pages.Count == 0)
            return null;
        if (path.Length > StackPathLength)
            return FindPage(Encoding.ASCII.GetString(path));
        Span<char> chars = stackalloc char[StackPathLength];
        int n = Encoding.ASCII.GetChars(path, chars);
        return FindPage(chars[..n]);
    }
}
