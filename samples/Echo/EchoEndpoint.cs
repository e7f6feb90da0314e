using WsGen;

namespace Echo;

/// <summary>Sends every message back as it came, text as text and binary as binary.</summary>
public sealed class EchoEndpoint : IWebSocketEndpoint
{
    private long _messages;

    /// <summary>Messages echoed so far.</summary>
    public long Messages => Volatile.Read(ref _messages);

    public void OnOpen(WebSocketConnection conn)
    {
    }

    public void OnMessage(WebSocketConnection conn, WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        conn.Send(payload, opcode);
        Interlocked.Increment(ref _messages);   // loops may run this concurrently (--loops)
    }

    public void OnClose(WebSocketConnection conn, CloseStatus status)
    {
    }
}
