namespace WsGen.Server;

/// <summary>Dispatches to endpoints wired by hand through <see cref="IWebSocketEndpoint"/>.</summary>
internal readonly struct InterfaceDispatcher(IWebSocketEndpoint[] endpoints) : IEndpointDispatcher
{
    public void OnOpen(int endpoint, WebSocketConnection conn) => endpoints[endpoint].OnOpen(conn);

    public void OnMessage(int endpoint, WebSocketConnection conn, WebSocketOpcode opcode, ReadOnlySpan<byte> payload) =>
        endpoints[endpoint].OnMessage(conn, payload, opcode);

    public void OnClose(int endpoint, WebSocketConnection conn, CloseStatus status) => endpoints[endpoint].OnClose(conn, status);

    public void OnError(int endpoint, WebSocketConnection conn, Exception error)
    {
    }
}
