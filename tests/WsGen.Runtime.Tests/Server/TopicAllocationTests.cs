using System.Net;
using System.Net.Sockets;
using System.Text;
using WsGen.Tests.Reactor;

namespace WsGen.Tests.Server;

/// <summary>Steady-state publishing allocates nothing: a publish from a thread that is no loop's, handed to two
/// loops, framed once (and compressed once per loop for shared-mode permessage-deflate) and written to every subscriber. The publishing thread's allocations are counted around each
/// publish, and each loop thread's by a probe connection whose handler reads the counter on that thread.
/// Allocation counts are deterministic, unlike time, so this is a test and not a benchmark.</summary>
public sealed class TopicAllocationTests
{
    private const int Subscribers = 4;
    private const int MostSubscribers = 64;
    private const int Warmup = 2_000;
    private const int Measured = 20_000;

    /// <summary>The native loops, each with subscribers without permessage-deflate, in shared mode (the frame
    /// compressed once per loop) and in dedicated mode (the plain frame).</summary>
    public static TheoryData<string, WebSocketCompression> NativeLoops()
    {
        var data = new TheoryData<string, WebSocketCompression>();
        foreach (string loop in ZeroAllocationTests.NativeLoops)
        {
            foreach (var mode in new[] { WebSocketCompression.Off, WebSocketCompression.Shared, WebSocketCompression.Dedicated })
                data.Add(loop, mode);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NativeLoops))]
    public void Publishing_twenty_thousand_messages_to_subscribers_on_two_loops_allocates_nothing(string reactor, WebSocketCompression compression)
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = TestServers.LoopOf(reactor), Loops = 2 };
        using var server = new WebSocketServer(options);
        var probe = new Probe();
        server.Map("/", new Silent(), new WebSocketEndpointOptions { Topics = ["t"], Compression = compression });
        server.Map("/probe", probe);
        server.Start();
        string offer = compression == WebSocketCompression.Off ? "" : "Sec-WebSocket-Extensions: permessage-deflate\r\n";
        // At least four subscribers, and more until both loops have some (the kernel spreads connections by hash).
        var opened = new List<Socket>();
        while (opened.Count < Subscribers || opened.Count < MostSubscribers && server.ConnectionsPerLoop.Any(n => n == 0))
        {
            opened.Add(Open(server.LocalEndPoint!, "/", offer));
            Assert.True(SpinWait.SpinUntil(() => server.SubscriberCount("t") == opened.Count, TimeSpan.FromSeconds(30)));
        }
        var sockets = opened.ToArray();
        Assert.All(server.ConnectionsPerLoop, n => Assert.True(n > 0, "both loops should have subscribers"));

        // One probe connection on each loop (the kernel spreads connections over the loops: open until both have one).
        var probes = new Dictionary<long, (Socket Socket, long[] Slot)>();
        for (int i = 0; i < 64 && probes.Count < 2; i++)
        {
            var socket = Open(server.LocalEndPoint!, "/probe");
            long[] slot = probe.Slots[i];
            Ask(socket);
            probes.TryAdd(slot[1], (socket, slot));
        }
        Assert.Equal(2, probes.Count);

        // Without compression 32 B; with it 200 B that shrink well (above the compression threshold), whose frame in
        // shared mode is what a deflater that resets after each message makes of them.
        byte[] payload = compression == WebSocketCompression.Off
            ? "0123456789abcdef0123456789abcdef"u8.ToArray()
            : Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcdef", 13))[..200]);
        int sent = compression == WebSocketCompression.Shared
            ? new WsGen.Protocol.Deflater(WsGen.Protocol.DeflateEngine.Zlib, 15, WsGen.Protocol.PerMessageDeflate.SharedMemLevel).Compress(payload, new WsGen.Protocol.DeflateBuffer(1024), reset: true).Length
            : payload.Length;
        int frameLength = WsGen.Protocol.FrameWriter.UnmaskedHeaderSize(sent) + sent;
        var buffer = new byte[64 * 1024];
        PublishAndRead(server, payload, frameLength, sockets, buffer, Warmup);
        long loopsBefore = probes.Values.Sum(p => { Ask(p.Socket); return p.Slot[0]; });
        long published = PublishAndRead(server, payload, frameLength, sockets, buffer, Measured);
        long loops = probes.Values.Sum(p => { Ask(p.Socket); return p.Slot[0]; }) - loopsBefore;

        // Messages handed to other loops come from a pool that grows to the most ever in flight at once: on a busy
        // machine a loop may lag a little more than before and the pool gains one (344 bytes once in a full test
        // run). A per-publish allocation, even of the smallest object (24 bytes), would make either figure at least
        // 24 times the number of publishes; steady state is 0 (as every run alone measures).
        Assert.True(published < Measured, $"the publishing thread allocated {published} bytes for {Measured} publishes");
        Assert.True(loops < Measured, $"the loop threads allocated {loops} bytes for {Measured} publishes");
        foreach (var socket in sockets)
            socket.Dispose();
    }

    /// <summary>Sends "m" to a probe connection and waits for its answer: its handler has then read its loop
    /// thread's allocation counter.</summary>
    private static void Ask(Socket socket)
    {
        Span<byte> frame = stackalloc byte[8];
        int n = WsGen.Protocol.FrameWriter.WriteFrame(frame, WebSocketOpcode.Text, true, "m"u8, 0x01020304u);
        socket.SendAll(frame[..n]);
        Span<byte> answer = stackalloc byte[2 + 2];
        for (int read = 0; read < answer.Length;)
        {
            int got = socket.Receive(answer[read..]);
            Assert.True(got > 0, "the probe was closed");
            read += got;
        }
    }

    /// <summary>Publishes <paramref name="count"/> messages in rounds of 100, each read by every subscriber before
    /// the next round: a steady rate, as the subscribers take it. Returns the bytes the publishes allocated.</summary>
    private static long PublishAndRead(WebSocketServer server, byte[] payload, int frameLength, Socket[] sockets, byte[] buffer, int count)
    {
        const int Round = 100;
        long allocated = 0;
        for (int sent = 0; sent < count; sent += Round)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Round; i++)
                server.Publish("t", payload, WebSocketOpcode.Text);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            ReadAll(sockets, buffer, Round * frameLength);
        }

        return allocated;
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

    private static Socket Open(IPEndPoint endPoint, string path, string extraHeaders = "")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 30_000 };
        socket.Connect(endPoint);
        socket.SendAll(Encoding.ASCII.GetBytes(RawWebSocket.Request(path, extraHeaders)));
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

    /// <summary>Answers "ok" to each message, after writing its loop thread's allocation counter and id into the
    /// connection's slot (slot i belongs to the i-th probe opened).</summary>
    private sealed class Probe : IWebSocketEndpoint
    {
        public readonly List<long[]> Slots = [];

        public void OnOpen(WebSocketConnection conn)
        {
            var slot = new long[2];
            conn.UserState = slot;
            lock (Slots)
                Slots.Add(slot);
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            var slot = (long[])conn.UserState!;
            slot[0] = GC.GetAllocatedBytesForCurrentThread();
            slot[1] = Environment.CurrentManagedThreadId;
            conn.Send("ok"u8, WebSocketOpcode.Text);
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
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
