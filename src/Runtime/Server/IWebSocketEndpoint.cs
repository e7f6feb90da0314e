namespace WsGen;

/// <summary>
/// An endpoint wired by hand with <see cref="WebSocketServer.Map"/>. Every call runs on the connection's loop
/// thread, one at a time per loop; a call must not block.
/// </summary>
/// <remarks>The <c>[WebSocketEndpoint]</c> generator emits the same calls from a struct, without the interface.</remarks>
public interface IWebSocketEndpoint
{
    /// <summary>The handshake succeeded; <paramref name="conn"/> can send from now on.</summary>
    void OnOpen(WebSocketConnection conn);

    /// <summary>A complete Text or Binary message. <paramref name="payload"/> is borrowed: it lies in the loop's
    /// receive buffer (zero-copy) and is valid only during the call. Text has been validated as UTF-8.</summary>
    void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode);

    /// <summary>The connection ended: the peer's close code, the code WsGen failed it with (1002, 1007, 1009 ...),
    /// 1001 on shutdown or idle timeout, or 1006 when TCP dropped without a close frame. Called exactly once
    /// for every connection that was opened.</summary>
    void OnClose(WebSocketConnection conn, CloseStatus status);
}
