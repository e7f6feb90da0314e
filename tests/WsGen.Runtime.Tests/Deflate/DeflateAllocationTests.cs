using System.Net;
using WsGen.Protocol;
using WsGen.Tests.Server;
using Xunit.Abstractions;

namespace WsGen.Tests.Deflate;

/// <summary>What permessage-deflate allocates per message on the loop thread: inflating the request from the receive
/// buffer, delivering it, and deflating the echo. Nothing on zlib in shared mode, nothing on the DeflateStream engine
/// with context takeover (dedicated mode), and the DeflateStream engine's shared mode pays for the new streams it needs
/// per message (see <see cref="DeflateEngine"/>). (Allocation counts are deterministic, unlike time, so these are tests
/// and not benchmarks.) They run alone, as <see cref="UpgradeAllocationTests"/> do: a measured window once took 72 B
/// while other tests ran.</summary>
[Collection(nameof(WsGen.Tests.Reactor.DescriptorLimitCollection))]
public sealed class DeflateAllocationTests(ITestOutputHelper output)
{
    private const int Warmup = 500;
    private const int Measured = 5_000;

    [Theory]
    [MemberData(nameof(ZeroAllocationTests.NativeLoops), MemberType = typeof(ZeroAllocationTests))]
    public void Echoing_compressed_1_KiB_and_16_KiB_messages_in_shared_mode_allocates_zero_bytes_on_the_loop(string reactor)
    {
        Assert.Equal(0, Measure(reactor, DeflateEngine.Zlib, WebSocketCompression.Shared, "permessage-deflate; client_max_window_bits"));
    }

    [Theory]
    [MemberData(nameof(ZeroAllocationTests.NativeLoops), MemberType = typeof(ZeroAllocationTests))]
    public void On_the_DeflateStream_engine_dedicated_mode_with_context_takeover_allocates_zero_bytes_on_the_loop(string reactor)
    {
        // The server keeps its window; the client compresses every message alone, so that the test can send the same
        // compressed frames again (the server's inflater is not restarted for that, see DeflateContext.Dedicated).
        Assert.Equal(0, Measure(reactor, DeflateEngine.DeflateStream, WebSocketCompression.Dedicated, "permessage-deflate; client_no_context_takeover"));
    }

    [Fact]
    public void On_the_DeflateStream_engine_shared_mode_allocates_a_deflater_and_an_inflater_stream_per_message_and_no_more()
    {
        long bytes = Measure("epoll", DeflateEngine.DeflateStream, WebSocketCompression.Shared, "permessage-deflate; client_max_window_bits");
        double perMessage = (double)bytes / Measured;
        output.WriteLine($"DeflateStream engine, shared mode: {perMessage:F0} B allocated per echoed message");
        // Two DeflateStreams and what they hold (their zlib state is native): a few hundred bytes, never the message's
        // size (16 KiB for half of them) nor a buffer that grows with the traffic.
        Assert.InRange(perMessage, 100, 2048);
    }

    /// <summary>Echoes <see cref="Warmup"/> then <see cref="Measured"/> compressed messages (half of about 1 KiB, half
    /// of about 16 KiB, JSON-like) on one connection that offered <paramref name="offer"/>; returns the bytes the loop
    /// allocated over the measured ones. Every echo is inflated and checked as it comes (in order, for a server that
    /// keeps its window).</summary>
    private static long Measure(string reactor, DeflateEngine engine, WebSocketCompression mode, string offer)
    {
        var endpoint = new ZeroAllocationTests.MeasuringEcho(Warmup, Measured);
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = TestServers.LoopOf(reactor), DeflateEngine = engine };
        using var server = new WebSocketServer(options);
        // A 16 KiB frame may arrive in several reads; the reader then joins it in a buffer of the endpoint's
        // FramePool. Without one it rents from ArrayPool<byte>.Shared, whose per-thread cache the runtime may trim at a
        // gen-2 collection (other tests run meanwhile), and its re-creation would count here although it is not the
        // message path's.
        var pool = new BytePool(64 * 1024, buffersPerSlab: 4);
        server.Map("/", endpoint, new WebSocketEndpointOptions { Compression = mode, FramePool = pool });
        server.Start();

        using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        raw.SendText(RawWebSocket.Request("/", $"Sec-WebSocket-Extensions: {offer}\r\n"));
        var agreed = DeflatePeer.FromResponse(raw.ReadHttpHead());
        Assert.NotNull(agreed);
        Assert.True(agreed.Value.ClientNoContextTakeover, "the client compresses every message alone");
        using var peer = new DeflatePeer(agreed.Value);

        // 32 different JSON-like messages, half of about 1 KiB and half of about 16 KiB, compressed once.
        var messages = Enumerable.Range(0, 32).Select(i => JsonLike.Message(i % 2 == 0 ? 1000 + i : 16000 + i, i)).ToArray();
        var frames = messages.Select(m =>
        {
            byte[] compressed = peer.Compress(m);
            var frame = new byte[14 + compressed.Length];
            return frame[..FrameWriter.WriteFrame(frame, WebSocketOpcode.Text, true, compressed, 0x5A5A1234u, rsv1: true)];
        }).ToArray();

        bool everyEcho = !agreed.Value.ServerNoContextTakeover;
        for (int sent = 0; sent < Warmup + Measured; sent++)
        {
            raw.Send(frames[sent % frames.Length]);
            var reply = raw.ReadFrame();
            Assert.NotNull(reply);
            Assert.Equal(0xC1, reply.Value.First);   // FIN, RSV1, text
            if (everyEcho || sent % 97 == 0)
                Assert.Equal(messages[sent % messages.Length], peer.Decompress(reply.Value.Payload));
        }

        Assert.True(endpoint.MeasuredBytes.HasValue, "the endpoint did not reach the end of the measured window");
        return endpoint.MeasuredBytes.Value;
    }
}
