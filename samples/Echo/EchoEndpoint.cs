using WsGen;

namespace Echo;

/// <summary>Sends every message back as it came, text as text and binary as binary.</summary>
/// <remarks>
/// Served through the code the <c>[WebSocketEndpoint]</c> generator emits (see Program.cs); it also implements
/// <see cref="IWebSocketEndpoint"/> so that it can be wired by hand, which the tests and the benchmark's
/// hand-wired variant do.
/// </remarks>
[WebSocketEndpoint("*", MaxConnections = 200_000, MaxMessageSize = 64 * 1024 * 1024, MaxBackpressure = 80 * 1024 * 1024)]
public sealed partial class EchoEndpoint : IWebSocketEndpoint
{
    private static long s_messages;

    /// <summary>Messages echoed so far by every instance (the loops may run several).</summary>
    public static long Messages => Volatile.Read(ref s_messages);

    public void OnOpen(WebSocketConnection conn)
    {
    }

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        conn.Send(payload, opcode);
        Interlocked.Increment(ref s_messages);
    }

    public void OnClose(WebSocketConnection conn, CloseStatus status)
    {
    }
}
