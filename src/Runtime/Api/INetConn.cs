namespace WsGen;

/// <summary>
/// A connection over a socket descriptor, non-blocking underneath (seed: NetConn).
/// </summary>
/// <remarks>
/// On a raw connection <see cref="Read"/> and <see cref="Write"/> are single non-blocking system calls.
/// On the connection a reactor hands to the layer above it, <see cref="Write"/> is corked:
/// bytes are appended to the loop's output and flushed once per loop turn; what the socket cannot take yet is
/// kept in a pooled per-connection buffer up to a limit (backpressure), never dropped silently.
/// </remarks>
public interface INetConn
{
    /// <summary>What <see cref="Read"/> returns when no byte is available now (-1).</summary>
    const int WouldBlock = -1;

    /// <summary>Reads into <paramref name="buffer"/>. Returns the number of bytes read, 0 when the peer
    /// closed its side, or <see cref="WouldBlock"/> when nothing can be read now.</summary>
    int Read(Span<byte> buffer);

    /// <summary>Writes <paramref name="data"/>. Returns the number of bytes taken (a raw connection may take
    /// fewer than offered, 0 when it would block; a reactor's connection takes all or closes, see its docs).</summary>
    int Write(ReadOnlySpan<byte> data);

    /// <summary>Closes the connection. Idempotent.</summary>
    void Close();

    /// <summary>State of the layer above (for example the WebSocket protocol state), so that the layer
    /// finds it without a lookup per read.</summary>
    object? Context { get; set; }
}

/// <summary>Constants of the <see cref="INetConn"/> contract, for the library's own code.</summary>
internal static class NetConn
{
    /// <summary>Returned by <see cref="INetConn.Read"/> when no byte is available now.</summary>
    public const int WouldBlock = INetConn.WouldBlock;
}
