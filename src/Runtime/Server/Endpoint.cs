using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>A mapped path with its index in the dispatcher, its limits, and the settings its connections share.</summary>
internal sealed class Endpoint
{
    public Endpoint(int index, EndpointRoute route, HandshakeLimits limits)
    {
        Index = index;
        Path = route.Path;
        Options = route.Options;
        ReaderOptions = new ReaderOptions { MaxMessageSize = Options.MaxMessageSize, ExpectMasked = true, Pool = Options.FramePool };
        HandshakeOptions = new HandshakeOptions
        {
            Limits = limits,
            CheckOrigin = Options.CheckOrigin,
            SupportedSubProtocols = Options.SubProtocols.Count == 0 ? null : Options.SubProtocols,
        };
    }

    public int Index { get; }
    public string Path { get; }
    public WebSocketEndpointOptions Options { get; }
    public ReaderOptions ReaderOptions { get; }
    public HandshakeOptions HandshakeOptions { get; }

    private int _openConnections;

    /// <summary>Connections of this endpoint that are open (counted from the upgrade to OnClose), over all loops.</summary>
    public int OpenConnections => Volatile.Read(ref _openConnections);

    /// <summary>Takes a place for one more connection; false when the endpoint is full. Atomic: loops share endpoints.</summary>
    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _openConnections) <= Options.MaxConnections)
            return true;
        Interlocked.Decrement(ref _openConnections);
        return false;
    }

    /// <summary>Gives back the place of a connection that ended.</summary>
    public void Release() => Interlocked.Decrement(ref _openConnections);
}
