using System.Text;
using WsGen;

namespace Chat;

/// <summary>Chat rooms on pub/sub topics: a member is in one room at a time (the lobby until it sends
/// "/join NAME", answered with "joined NAME"), and every message a member sends goes to every member of its room, the
/// sender included.</summary>
/// <remarks>The room is a topic, so its members may be on any loop (<c>--loops N</c>): a message is framed once per
/// loop and written to the members there. A member that stops reading misses messages (the endpoint's publish limit)
/// instead of slowing the room.</remarks>
[WebSocketEndpoint("/chat", MaxConnections = 10_000, MaxMessageSize = 16 * 1024, IdleTimeoutSeconds = 60)]
public partial class ChatRoom
{
    /// <summary>The room every member starts in.</summary>
    public const string Lobby = "lobby";

    /// <summary>The longest room name, in bytes.</summary>
    public const int MaxRoomName = 64;

    public void OnOpen(WebSocketConnection conn)
    {
        conn.UserState = Lobby;
        conn.Subscribe(Lobby);
    }

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        if (opcode == WebSocketOpcode.Text && payload.StartsWith("/join "u8))
        {
            var name = payload["/join "u8.Length..];
            if (name.IsEmpty || name.Length > MaxRoomName)
            {
                conn.SendText($"room names have 1 to {MaxRoomName} bytes");
                return;
            }

            Join(conn, Encoding.UTF8.GetString(name));
            return;
        }

        // The sender's copy first, then everybody else's: one publish, whatever the number of members and loops.
        conn.Send(payload, opcode);
        conn.Publish((string)conn.UserState!, payload, opcode);
    }

    // A connection's subscriptions end with it: nothing to clean up.
    public void OnClose(WebSocketConnection conn, CloseStatus status)
    {
    }

    private static void Join(WebSocketConnection conn, string room)
    {
        conn.Unsubscribe((string)conn.UserState!);
        conn.UserState = room;
        conn.Subscribe(room);
        conn.SendText("joined " + room);
    }
}
