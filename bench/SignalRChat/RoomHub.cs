using Microsoft.AspNetCore.SignalR;

namespace SignalRChat;

/// <summary>Rooms as SignalR groups: <c>Join</c> adds the caller to a group, <c>Publish</c> sends a message to every
/// member of a group (on every node, through the backplane) as the client method <c>m</c>.</summary>
/// <remarks>The message is what bench/CrossNode's publishers send to WsGen's Chat: a send timestamp and a sequence
/// number, here as two arguments of the hub protocol instead of a binary frame.</remarks>
public sealed class RoomHub : Hub
{
    public Task Join(string room) => Groups.AddToGroupAsync(Context.ConnectionId, room);

    public Task Publish(string room, long timestamp, long sequence) => Clients.Group(room).SendAsync("m", timestamp, sequence);
}
