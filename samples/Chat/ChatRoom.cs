using System.Text;
using WsGen;

namespace Chat;

/// <summary>Chat rooms on pub/sub topics: a member is in one room at a time (the lobby until it sends
/// "/join NAME", answered with "joined NAME"), and every message a member sends goes to every member of its room, the
/// sender included, each text message prefixed with its sender's name ("name: text"). The name comes from the room
/// URL's <c>?name=</c>, attached to the connection at the upgrade; with <see cref="Token"/> set, the upgrade needs that
/// token.</summary>
/// <remarks>The room is a topic, so its members may be on any loop (<c>--loops N</c>): a message is framed once per
/// loop and written to the members there. A member that stops reading misses messages (the endpoint's publish limit)
/// instead of slowing the room. Binary messages go to the room as they are, without a name.</remarks>
[WebSocketEndpoint("/chat", MaxConnections = 10_000, MaxMessageSize = 16 * 1024, IdleTimeoutSeconds = 60)]
public partial class ChatRoom
{
    /// <summary>The room every member starts in.</summary>
    public const string Lobby = "lobby";

    /// <summary>The longest room name, in bytes.</summary>
    public const int MaxRoomName = 64;

    /// <summary>The longest name kept, in chars.</summary>
    public const int MaxNameLength = 32;

    /// <summary>A text message with its sender's name, built on the loop thread that sends it (loops run at once).</summary>
    [ThreadStatic]
    private static byte[]? t_line;

    /// <summary>When set (<c>--token T</c>), a handshake needs <c>?token=T</c> or <c>Authorization: Bearer T</c>; others get 401.</summary>
    public static string? Token { get; set; }

    /// <summary>What a connection is: its name (from the upgrade) and its room.</summary>
    private sealed class Member(string name)
    {
        public string Name { get; } = name;

        public string Room { get; set; } = Lobby;
    }

    public WebSocketUpgradeDecision OnUpgrade(WebSocketUpgradeRequest request)
    {
        if (Token is { } token && request.GetQueryValue("token") != token && request.GetHeader("Authorization") != "Bearer " + token)
            return WebSocketUpgradeDecision.Refuse(401, "this room needs its token").WithHeader("WWW-Authenticate", "Bearer");
        string name = (request.GetQueryValue("name") ?? "").Trim();
        if (name.Length > MaxNameLength)
            name = name[..MaxNameLength];
        return WebSocketUpgradeDecision.Accept(state: new Member(name.Length > 0 ? name : "guest"));
    }

    public void OnOpen(WebSocketConnection conn) => conn.Subscribe(Lobby);

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        var member = (Member)conn.UserState!;
        if (opcode == WebSocketOpcode.Text && payload.StartsWith("/join "u8))
        {
            var room = payload["/join "u8.Length..];
            if (room.IsEmpty || room.Length > MaxRoomName)
            {
                conn.SendText($"room names have 1 to {MaxRoomName} bytes");
                return;
            }

            conn.Unsubscribe(member.Room);
            member.Room = Encoding.UTF8.GetString(room);
            conn.Subscribe(member.Room);
            conn.SendText("joined " + member.Room);
            return;
        }

        ReadOnlySpan<byte> message = payload;
        if (opcode == WebSocketOpcode.Text)
        {
            int length = Encoding.UTF8.GetByteCount(member.Name) + 2 + payload.Length;
            var line = t_line is { } buffer && buffer.Length >= length ? buffer : t_line = new byte[Math.Max(length, 1024)];
            int n = Encoding.UTF8.GetBytes(member.Name, line);
            ": "u8.CopyTo(line.AsSpan(n));
            payload.CopyTo(line.AsSpan(n + 2));
            message = line.AsSpan(0, length);
        }

        // The sender's copy first, then everybody else's: one publish, whatever the number of members and loops.
        conn.Send(message, opcode);
        conn.Publish(member.Room, message, opcode);
    }

    // A connection's subscriptions end with it: nothing to clean up.
    public void OnClose(WebSocketConnection conn, CloseStatus status)
    {
    }
}
