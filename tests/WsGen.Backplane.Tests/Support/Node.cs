using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace WsGen.Backplane.Tests.Support;

/// <summary>
/// One WsGen server (a node of a cluster) on a free loopback port with a backplane to a broker, serving a topic
/// endpoint: text commands "sub T" and "unsub T" (answered once applied; T is the rest of the line, spaces included),
/// "pub T text" (published by the connection; T without spaces);
/// connections of path "/all" are subscribed to topic "all" as they open.
/// </summary>
public sealed class Node : IDisposable
{
    public Node(Broker broker, int loops = 2)
    {
        Backplane = broker.CreateBackplane();
        Server = new WebSocketServer(new WebSocketServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Loops = loops,
            Backplane = Backplane,
        });
        Server.Map("/all", new TopicEndpoint(), new WebSocketEndpointOptions { Topics = ["all"] });
        Server.Map("*", new TopicEndpoint());
        Server.Start();
    }

    public WebSocketServer Server { get; }

    public WebSocketBackplane Backplane { get; }

    public Uri Url(string path = "/") => new($"ws://{Server.LocalEndPoint}{path}");

    /// <summary>Waits until the backplane is (or is not) connected to its broker.</summary>
    public void WaitForBroker(bool connected)
    {
        Assert.True(SpinWait.SpinUntil(() => Backplane.Connected == connected, Broker.Timeout),
            connected ? "the node did not connect to the broker" : "the node did not notice that the broker is gone");
    }

    public async Task<Client> ConnectAsync(string path = "/")
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(Broker.Timeout);
        await socket.ConnectAsync(Url(path), cts.Token);
        return new Client(socket);
    }

    public void Dispose() => Server.Dispose();

    internal sealed class TopicEndpoint : IWebSocketEndpoint
    {
        public void OnOpen(WebSocketConnection conn)
        {
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            string[] words = Encoding.UTF8.GetString(payload).Split(' ', 3);
            string rest = Encoding.UTF8.GetString(payload).Split(' ', 2)[1];
            switch (words[0])
            {
                case "sub":
                    conn.Subscribe(rest);
                    conn.SendText("subscribed " + rest);
                    break;
                case "unsub":
                    conn.Unsubscribe(rest);
                    conn.SendText("unsubscribed " + rest);
                    break;
                case "pub":
                    conn.Publish(words[1], Encoding.UTF8.GetBytes(words[2]), WebSocketOpcode.Text);
                    break;
            }
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }
}

/// <summary>A ClientWebSocket with text helpers that fail after <see cref="Broker.Timeout"/>.</summary>
public sealed class Client(ClientWebSocket socket) : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];

    public Task SendAsync(string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, new CancellationTokenSource(Broker.Timeout).Token);

    public async Task<string> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(Broker.Timeout);
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(_buffer, cts.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(_buffer, 0, result.Count);
            if (result.EndOfMessage)
                return Encoding.UTF8.GetString(message.ToArray());
        }
    }

    /// <summary>Sends a command and waits for its answer (nothing else may arrive meanwhile).</summary>
    public async Task CommandAsync(string command, string answer)
    {
        await SendAsync(command);
        Assert.Equal(answer, await ReceiveAsync());
    }

    public void Dispose() => socket.Dispose();
}

/// <summary>Collects what arrives on several clients at once.</summary>
public static class Receive
{
    /// <summary>Receives <paramref name="count"/> messages on <paramref name="client"/>.</summary>
    public static async Task<List<string>> ManyAsync(Client client, int count)
    {
        var got = new List<string>(count);
        for (int i = 0; i < count; i++)
            got.Add(await client.ReceiveAsync());
        return got;
    }

    /// <summary>Messages "prefix0" .. "prefix(n-1)".</summary>
    public static List<string> Sequence(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => prefix + i)];
}

/// <summary>Reads the <c>WsGen</c> meter's observable counters of one server, as a metrics listener would.</summary>
public static class Meters
{
    /// <summary>The value of <paramref name="instrument"/> for the server listening on <paramref name="node"/>'s port,
    /// or null when the server has no such instrument.</summary>
    public static long? Read(Node node, string instrument)
    {
        long? value = null;
        int port = node.Server.LocalEndPoint!.Port;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == "WsGen" && i.Name == instrument)
                l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, measurement, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "server.port" && tag.Value is int p && p == port)
                    value = measurement;
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }
}
