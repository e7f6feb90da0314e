using System.Text;
using WsGen;

namespace Chat;

/// <summary>Every message any member sends goes to every member of the room, the sender included, each text message
/// prefixed with its sender's name ("name: text"). The name comes from the room URL's <c>?name=</c>, attached to the
/// connection at the upgrade; with <see cref="Token"/> set, the upgrade needs that token.</summary>
/// <remarks>All calls run on the loop thread, one at a time, so the member set and the buffer need no lock.</remarks>
[WebSocketEndpoint("/chat", MaxConnections = 10_000, MaxMessageSize = 16 * 1024, IdleTimeoutSeconds = 60)]
public partial class ChatRoom
{
    /// <summary>The longest name kept, in chars.</summary>
    public const int MaxNameLength = 32;

    private readonly HashSet<WebSocketConnection> _members = [];
    private byte[] _line = new byte[1024];

    /// <summary>When set (<c>--token T</c>), a handshake needs <c>?token=T</c> or <c>Authorization: Bearer T</c>; others get 401.</summary>
    public static string? Token { get; set; }

    /// <summary>Members connected right now.</summary>
    public int Count => _members.Count;

    public WebSocketUpgradeDecision OnUpgrade(WebSocketUpgradeRequest request)
    {
        if (Token is { } token && request.GetQueryValue("token") != token && request.GetHeader("Authorization") != "Bearer " + token)
            return WebSocketUpgradeDecision.Refuse(401, "this room needs its token").WithHeader("WWW-Authenticate", "Bearer");
        string name = (request.GetQueryValue("name") ?? "").Trim();
        if (name.Length > MaxNameLength)
            name = name[..MaxNameLength];
        return WebSocketUpgradeDecision.Accept(state: name.Length > 0 ? name : "guest");
    }

    public void OnOpen(WebSocketConnection conn) => _members.Add(conn);

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        ReadOnlySpan<byte> message = payload;
        if (opcode == WebSocketOpcode.Text)
        {
            string name = (string)conn.UserState!;
            int length = Encoding.UTF8.GetByteCount(name) + 2 + payload.Length;
            if (_line.Length < length)
                _line = new byte[Math.Max(length, _line.Length * 2)];
            int n = Encoding.UTF8.GetBytes(name, _line);
            ": "u8.CopyTo(_line.AsSpan(n));
            payload.CopyTo(_line.AsSpan(n + 2));
            message = _line.AsSpan(0, length);
        }

        foreach (var member in _members)
            member.Send(message, opcode);
    }

    public void OnClose(WebSocketConnection conn, CloseStatus status) => _members.Remove(conn);
}
