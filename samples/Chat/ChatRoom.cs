using WsGen;

namespace Chat;

/// <summary>Every message any member sends goes to every member of the room, the sender included.</summary>
/// <remarks>All calls run on the loop thread, one at a time, so the member set needs no lock.</remarks>
[WebSocketEndpoint("/chat", MaxConnections = 10_000, MaxMessageSize = 16 * 1024, IdleTimeoutSeconds = 60)]
public partial class ChatRoom
{
    private readonly HashSet<WebSocketConnection> _members = [];

    /// <summary>Members connected right now.</summary>
    public int Count => _members.Count;

    public void OnOpen(WebSocketConnection conn) => _members.Add(conn);

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        foreach (var member in _members)
            member.Send(payload, opcode);
    }

    public void OnClose(WebSocketConnection conn, CloseStatus status) => _members.Remove(conn);
}
