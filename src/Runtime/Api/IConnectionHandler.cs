namespace WsGen;

/// <summary>
/// What a reactor calls with connections and readable bytes: the server's protocol layer, or the struct
/// the generator emits. Every call runs on the loop thread.
/// </summary>
internal interface IConnectionHandler
{
    /// <summary>A connection was registered. <paramref name="conn"/> stays valid until <see cref="OnClose"/>.</summary>
    void OnOpen(INetConn conn);

    /// <summary>Bytes arrived. <paramref name="data"/> lies in the loop's shared receive buffer: it may be
    /// modified in place (unmasking) and is valid only during the call.</summary>
    void OnData(INetConn conn, Span<byte> data);

    /// <summary>Every byte that had to wait (backpressure) has been handed to the socket.</summary>
    void OnWritable(INetConn conn);

    /// <summary>The connection is closed (by the peer, an error, or <see cref="INetConn.Close"/>). Called once.</summary>
    void OnClose(INetConn conn);

    /// <summary>Called about once a second with a monotonic clock in milliseconds, for timeouts.</summary>
    void OnTick(long nowMilliseconds);

    /// <summary>The loop was asked to stop. The handler starts closing its connections (for example with
    /// close code 1001); the loop keeps running until every connection is closed or the drain deadline passes.</summary>
    void OnShutdown();
}
