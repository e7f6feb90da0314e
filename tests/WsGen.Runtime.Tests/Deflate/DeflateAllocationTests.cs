using System.Net;
using WsGen.Protocol;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>Shared-mode permessage-deflate allocates nothing per message on the loop thread: inflating the
/// request from the receive buffer, delivering it, and deflating the echo. (Allocation counts are deterministic,
/// unlike time, so this is a test and not a benchmark.)</summary>
public sealed class DeflateAllocationTests
{
    private const int Warmup = 500;
    private const int Measured = 5_000;

    [Theory]
    [MemberData(nameof(ZeroAllocationTests.NativeLoops), MemberType = typeof(ZeroAllocationTests))]
    public void Echoing_compressed_1_KiB_and_16_KiB_messages_in_shared_mode_allocates_zero_bytes_on_the_loop(string reactor)
    {
        var endpoint = new ZeroAllocationTests.MeasuringEcho(Warmup, Measured);
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = TestServers.LoopOf(reactor) };
        using var server = new WebSocketServer(options);
        // A 16 KiB frame may arrive in several reads; the reader then joins it in a buffer of the endpoint's
        // FramePool. Without one it rents from ArrayPool<byte>.Shared, whose per-thread cache the runtime may trim at a
        // gen-2 collection (other tests run meanwhile), and its re-creation would count here although it is not the
        // message path's.
        var pool = new BytePool(64 * 1024, buffersPerSlab: 4);
        server.Map("/", endpoint, new WebSocketEndpointOptions { Compression = WebSocketCompression.Shared, FramePool = pool });
        server.Start();

        using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        raw.SendText(RawWebSocket.Request("/", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
        var agreed = DeflatePeer.FromResponse(raw.ReadHttpHead());
        Assert.NotNull(agreed);
        using var peer = new DeflatePeer(agreed.Value);

        // 32 different JSON-like messages, half of about 1 KiB and half of about 16 KiB, compressed once (the shared
        // mode has the client reset its window for every message, so each compressed form stands alone).
        var messages = Enumerable.Range(0, 32).Select(i => JsonLike.Message(i % 2 == 0 ? 1000 + i : 16000 + i, i)).ToArray();
        var frames = messages.Select(m =>
        {
            byte[] compressed = peer.Compress(m);
            var frame = new byte[14 + compressed.Length];
            return frame[..FrameWriter.WriteFrame(frame, WebSocketOpcode.Text, true, compressed, 0x5A5A1234u, rsv1: true)];
        }).ToArray();

        for (int sent = 0; sent < Warmup + Measured; sent++)
        {
            raw.Send(frames[sent % frames.Length]);
            var reply = raw.ReadFrame();
            Assert.NotNull(reply);
            Assert.Equal(0xC1, reply.Value.First);   // FIN, RSV1, text
            if (sent % 97 == 0)
                Assert.Equal(messages[sent % messages.Length], peer.Decompress(reply.Value.Payload));
        }

        Assert.True(endpoint.MeasuredBytes.HasValue, "the endpoint did not reach the end of the measured window");
        Assert.Equal(0, endpoint.MeasuredBytes.Value);
    }
}
