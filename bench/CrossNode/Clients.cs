using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace CrossNode;

/// <summary>One connection of the driver to a room: it joins, publishes (timestamp, sequence) and hands every message
/// of the room it receives to <see cref="Received"/>.</summary>
internal abstract class RoomClient : IAsyncDisposable
{
    /// <summary>Called with each message's timestamp (<see cref="System.Diagnostics.Stopwatch"/> ticks) and sequence
    /// number, on the client's receive path.</summary>
    public Action<long, long>? Received { get; set; }

    public abstract Task JoinAsync(Uri server, string room, string name, CancellationToken cancel);

    public abstract ValueTask PublishAsync(long timestamp, long sequence);

    public abstract ValueTask DisposeAsync();

    public static RoomClient Create(string kind) => kind switch
    {
        "wsgen" => new ChatClient(),
        "signalr" => new HubClient(),
        _ => throw new ArgumentException($"unknown kind '{kind}' (wsgen or signalr)"),
    };
}

/// <summary>A member of a WsGen Chat room over <see cref="ClientWebSocket"/>: "/join ROOM", then 16-byte binary
/// messages (the Chat room forwards binary messages as they are, to every member, the sender included).</summary>
internal sealed class ChatClient : RoomClient
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _send = new byte[16];
    private readonly byte[] _receive = new byte[256];
    private Task? _reading;

    public override async Task JoinAsync(Uri server, string room, string name, CancellationToken cancel)
    {
        var uri = new Uri(server, "/chat?name=" + Uri.EscapeDataString(name));
        await _socket.ConnectAsync(uri, cancel);
        await _socket.SendAsync(Encoding.UTF8.GetBytes("/join " + room), WebSocketMessageType.Text, true, cancel);
        string joined = "joined " + room;
        while (true)
        {
            var result = await _socket.ReceiveAsync(_receive, cancel);
            if (result.MessageType == WebSocketMessageType.Close)
                throw new InvalidOperationException($"{uri} closed before the join was answered");
            if (result.MessageType == WebSocketMessageType.Text && Encoding.UTF8.GetString(_receive, 0, result.Count) == joined)
                break;
        }
        _reading = ReadAsync();
    }

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(_receive.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                    return;
                if (result.MessageType == WebSocketMessageType.Binary && result.EndOfMessage && result.Count == 16)
                    Received?.Invoke(BinaryPrimitives.ReadInt64LittleEndian(_receive), BinaryPrimitives.ReadInt64LittleEndian(_receive.AsSpan(8)));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public override ValueTask PublishAsync(long timestamp, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_send, timestamp);
        BinaryPrimitives.WriteInt64LittleEndian(_send.AsSpan(8), sequence);
        return _socket.SendAsync(_send.AsMemory(), WebSocketMessageType.Binary, true, CancellationToken.None);
    }

    public override async ValueTask DisposeAsync()
    {
        _socket.Abort();
        if (_reading is not null)
            await _reading;
        _socket.Dispose();
    }
}

/// <summary>A member of a SignalR hub's group over WebSockets (negotiation skipped, as nodes behind a load balancer
/// without sticky sessions need): <c>Join(room)</c>, <c>Publish(room, timestamp, sequence)</c>, the client method
/// <c>m(timestamp, sequence)</c>.</summary>
internal sealed class HubClient : RoomClient
{
    private HubConnection? _connection;
    private string _room = "";

    public override async Task JoinAsync(Uri server, string room, string name, CancellationToken cancel)
    {
        _room = room;
        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server, "/hub"), HttpTransportType.WebSockets, options => options.SkipNegotiation = true)
            .Build();
        _connection.On<long, long>("m", (timestamp, sequence) => Received?.Invoke(timestamp, sequence));
        await _connection.StartAsync(cancel);
        await _connection.InvokeAsync("Join", room, cancel);
    }

    public override ValueTask PublishAsync(long timestamp, long sequence) =>
        new(_connection!.SendAsync("Publish", _room, timestamp, sequence));

    public override async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
    }
}
