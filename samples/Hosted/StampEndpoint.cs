using WsGen;

namespace Hosted;

/// <summary>Echoes each message with the server's time in front: the <see cref="TimeProvider"/> comes from the
/// host's container through the constructor, and the generated dispatch still calls OnMessage directly.</summary>
[WebSocketEndpoint("/stamp", MaxConnections = 10_000, MaxMessageSize = 64 * 1024)]
public sealed partial class StampEndpoint(TimeProvider time)
{
    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        Span<byte> stamp = stackalloc byte[32];
        time.GetUtcNow().TryFormat(stamp, out int written, "HH:mm:ss.fff ");
        byte[] reply = [.. stamp[..written], .. payload];
        conn.Send(reply, opcode);
    }
}
