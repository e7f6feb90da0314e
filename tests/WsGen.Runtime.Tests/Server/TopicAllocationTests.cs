using System.Net;
using System.Net.Sockets;
using System.Text;
using WsGen.Tests.Reactor;

namespace WsGen.Tests.Server;

/// <summary>Steady-state publishing allocates nothing: a publish from a thread that is no loop's, handed to two
/// loops, framed once and written to every subscriber. Allocation counts are deterministic, unlike time, so this is a
/// test and not a benchmark.</summary>
public sealed class TopicAllocationTests
{
    private const int Subscribers = 4;
    private const int Warmup = 2_000;
    private const int Measured = 20_000;

    public static TheoryData<string> NativeLoops => ZeroAllocationTests.NativeLoops;

    [Theory]
    [MemberData(nameof(NativeLoops))]
    public void Publishing_twenty_thousand_messages_to_subscribers_on_two_loops_allocates_nothing(string reactor)
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = TestServers.LoopOf(reactor), Loops = 2 };
        using var server = new WebSocketServer(options);
        server.Map("/", new Silent(), new WebSocketEndpointOptions { Topics = ["t"] });
        server.Start();
        var sockets = Enumerable.Range(0, Subscribers).Select(_ => Open(server.LocalEndPoint!)).ToArray();
        Assert.True(SpinWait.SpinUntil(() => server.SubscriberCount("t") == Subscribers, TimeSpan.FromSeconds(30)));
        Assert.All(server.ConnectionsPerLoop, n => Assert.True(n > 0, "both loops should have subscribers"));

        byte[] payload = "0123456789abcdef0123456789abcdef"u8.ToArray();
        var buffer = new byte[64 * 1024];
        PublishAndRead(server, payload, sockets, buffer, Warmup);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        PublishAndRead(server, payload, sockets, buffer, Measured);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // Every thread of the process counts here (the test runner's too), so a few hundred bytes of theirs may show
        // (168 and 728 bytes in two runs); an allocation per publish, even the smallest object (24 bytes), would put
        // this far above one byte per publish.
        Assert.True(allocated < Measured, $"{allocated} bytes allocated for {Measured} publishes to {Subscribers} subscribers");
        foreach (var socket in sockets)
            socket.Dispose();
    }

    /// <summary>Publishes <paramref name="count"/> messages in rounds of 100, each read by every subscriber before
    /// the next round: a steady rate, as the subscribers take it.</summary>
    private static void PublishAndRead(WebSocketServer server, byte[] payload, Socket[] sockets, byte[] buffer, int count)
    {
        const int Round = 100, FrameLength = 2 + 32;
        for (int sent = 0; sent < count; sent += Round)
        {
            for (int i = 0; i < Round; i++)
                server.Publish("t", payload, WebSocketOpcode.Text);
            ReadAll(sockets, buffer, Round * FrameLength);
        }
    }

    /// <summary>Reads <paramref name="bytes"/> bytes from each socket into one buffer (no allocation).</summary>
    private static void ReadAll(Socket[] sockets, byte[] buffer, int bytes)
    {
        foreach (var socket in sockets)
        {
            for (int read = 0; read < bytes;)
            {
                int n = socket.Receive(buffer.AsSpan(0, Math.Min(buffer.Length, bytes - read)));
                Assert.True(n > 0, "the server closed a subscriber");
                read += n;
            }
        }
    }

    private static Socket Open(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 30_000 };
        socket.Connect(endPoint);
        socket.SendAll(Encoding.ASCII.GetBytes(RawWebSocket.Request()));
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            Assert.Equal(1, socket.Receive(one));
            head.Add(one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101 ", Encoding.ASCII.GetString(head.ToArray()));
        return socket;
    }

    private sealed class Silent : IWebSocketEndpoint
    {
        public void OnOpen(WebSocketConnection conn)
        {
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }
}
