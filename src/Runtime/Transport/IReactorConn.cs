using WsGen.Transport;

namespace WsGen;

/// <summary>
/// The connection a reactor hands to its <see cref="IConnectionHandler"/>: an <see cref="INetConn"/> whose
/// <see cref="INetConn.Write"/> is corked and backpressured, plus what only a loop's connection can offer.
/// </summary>
/// <remarks>
/// <see cref="INetConn.Write"/> takes every byte (keeping what the socket cannot take yet) and returns the length
/// offered, or returns 0 when the connection is closed, closing, or was aborted because the waiting bytes would
/// exceed the reactor's limit. <see cref="INetConn.Close"/> is graceful: waiting bytes are flushed, the sending
/// side is shut down, and the connection is released when the peer closes or a linger timeout passes.
/// <see cref="IConnectionHandler.OnClose"/> is delivered after the current callback returns, never re-entrantly.
/// Members must be called on the loop thread.
/// </remarks>
internal interface IReactorConn : INetConn
{
    /// <summary>Bytes accepted by <see cref="INetConn.Write"/> that the socket has not taken yet.</summary>
    long WaitingBytes { get; }

    /// <summary>True once the connection was aborted because its waiting bytes would exceed the reactor's limit
    /// (the server reports it when the connection closes).</summary>
    bool Overflowed { get; }

    /// <summary>Closes the connection now, dropping waiting bytes. Idempotent.</summary>
    void Abort();

    /// <summary>Puts <paramref name="transform"/> between the socket and the handler from now on (TLS): input goes
    /// through it before the handler sees it, and the handler's writes go through it before the socket does. On the
    /// loop thread, while the connection is open; at most once.</summary>
    void AttachTransform(IByteTransform transform);

    /// <summary>Writes <paramref name="data"/> as <see cref="INetConn.Write"/> does, when the same bytes go to many
    /// connections in this turn (a published frame): the loop keeps one copy of them for all, which
    /// <paramref name="shared"/> (default for the first connection, then passed on unchanged) remembers.</summary>
    int WriteShared(ReadOnlySpan<byte> data, ref SharedBytes shared);
}

/// <summary>Where a loop keeps bytes written to many connections (<see cref="IReactorConn.WriteShared"/>): their
/// offset in the loop's gather buffer, valid while the buffer has not been emptied since (its epoch).</summary>
internal readonly struct SharedBytes(int offset, int epoch)
{
    public int Offset { get; } = offset;

    /// <summary>The gather buffer's epoch when the bytes were copied; 0 (the default) for none.</summary>
    public int Epoch { get; } = epoch;
}
