using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>A mapped path with its handler, limits and the reader settings its connections share.</summary>
internal sealed class Endpoint
{
    public Endpoint(string path, IWebSocketEndpoint handler, WebSocketEndpointOptions options, HandshakeLimits limits)
    {
        Path = path;
        Handler = handler;
        Options = options;
        ReaderOptions = new ReaderOptions { MaxMessageSize = options.MaxMessageSize, ExpectMasked = true };
        HandshakeOptions = new HandshakeOptions
        {
            Limits = limits,
            CheckOrigin = options.CheckOrigin,
            SelectSubProtocol = options.SubProtocols.Count == 0 ? null : SelectSubProtocol,
        };
    }

    public string Path { get; }
    public IWebSocketEndpoint Handler { get; }
    public WebSocketEndpointOptions Options { get; }
    public ReaderOptions ReaderOptions { get; }
    public HandshakeOptions HandshakeOptions { get; }

    /// <summary>Connections of this endpoint that are open (counted from OnOpen to OnClose).</summary>
    public int OpenConnections { get; set; }

    /// <summary>The first subprotocol of ours that the client offered, or null.</summary>
    public string? SelectSubProtocol(IReadOnlyList<string> offered)
    {
        foreach (var ours in Options.SubProtocols)
            foreach (var theirs in offered)
                if (string.Equals(ours, theirs, StringComparison.Ordinal))
                    return theirs;
        return null;
    }
}
