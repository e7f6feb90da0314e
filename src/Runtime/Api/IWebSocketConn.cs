namespace WsGen;

/// <summary>One WebSocket connection, server or client side (seed: WebSocketConn).</summary>
/// <remarks>
/// Client connections are read by pulling: <see cref="ReadFrame"/> returns every frame in order (pings are
/// answered and close frames completed before they are returned). Server connections push: the endpoint's
/// OnMessage receives each message on the loop thread, so <see cref="ReadFrame"/> throws
/// <see cref="NotSupportedException"/> there.
/// </remarks>
public interface IWebSocketConn
{
    /// <summary>Reads one frame; blocks until it is complete. The caller owns it and must Release it.</summary>
    WebSocketFrame ReadFrame();

    /// <summary>Sends a frame with the opcode, FIN bit and payload of <paramref name="frame"/> (the header is
    /// written anew for this side: masked from a client). The frame stays the caller's.</summary>
    void WriteFrame(WebSocketFrame frame);

    /// <summary>Sends a whole message as one frame.</summary>
    void Send(ReadOnlySpan<byte> payload, WebSocketOpcode opcode = WebSocketOpcode.Binary);

    /// <summary>Starts the close handshake with 1000 (normal closure).</summary>
    void Close();

    /// <summary>Starts the close handshake with <paramref name="code"/> and a UTF-8 reason of at most 123 bytes.</summary>
    void Close(WebSocketCloseCode code, string reason = "");

    /// <summary>The subprotocol agreed in the handshake, or null.</summary>
    string? SubProtocol { get; }

    /// <summary>True until the connection is closed or closing.</summary>
    bool IsOpen { get; }

    /// <summary>Free for the application (for example a user id).</summary>
    object? UserState { get; set; }
}
