using System.Collections.Frozen;

namespace WsGen.Server;

/// <summary>Finds the endpoint of a request path: an exact match, else the endpoint mapped at "*", else none.</summary>
internal sealed class Router
{
    private readonly FrozenDictionary<string, Endpoint> _exact;
    private readonly Endpoint? _fallback;

    public Router(IEnumerable<Endpoint> endpoints)
    {
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
}
