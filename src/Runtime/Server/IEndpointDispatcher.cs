using System.ComponentModel;

namespace WsGen;

/// <summary>
/// Calls the endpoints of a server by index, without an interface or virtual call per message: the server's loop
/// is generic over the struct that implements this. The <c>[WebSocketEndpoint]</c> generator emits one such struct
/// per application; <see cref="WebSocketServer.Map"/> wires hand-written <see cref="IWebSocketEndpoint"/>s through one.
/// </summary>
/// <remarks>Every call runs on the connection's loop thread. An exception from OnOpen or OnMessage is passed to
/// OnError, then the connection is closed with 1011. For generated code; hidden from IntelliSense.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IEndpointDispatcher
{
    void OnOpen(int endpoint, WebSocketConnection conn);

    /// <summary>A complete message; <paramref name="payload"/> is borrowed for the duration of the call.</summary>
    void OnMessage(int endpoint, WebSocketConnection conn, WebSocketOpcode opcode, ReadOnlySpan<byte> payload);

    void OnClose(int endpoint, WebSocketConnection conn, CloseStatus status);

    void OnError(int endpoint, WebSocketConnection conn, Exception error);
}

/// <summary>One endpoint of a dispatcher: its path (its index is its position in the list) and its settings.</summary>
/// <remarks>For generated code; hidden from IntelliSense.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct EndpointRoute(string Path, WebSocketEndpointOptions Options);
