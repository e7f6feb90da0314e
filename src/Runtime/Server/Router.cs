using System.Collections.Frozen;

namespace WsGen.Server;

/// <summary>Finds the endpoint of a request path (an exact match, else the endpoint mapped at "*", else none), and the
/// static page of a plain GET.</summary>
internal sealed class Router
{
    private readonly FrozenDictionary<string, Endpoint> _exact;
    private readonly Endpoint? _fallback;
    private readonly FrozenDictionary<string, StaticPage> _pages;

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
    }

    public Endpoint? Find(string path) => _exact.TryGetValue(path, out var e) ? e : _fallback;

    public StaticPage? FindPage(string path) => _pages.Count != 0 && _pages.TryGetValue(path, out var page) ? page : null;
}
