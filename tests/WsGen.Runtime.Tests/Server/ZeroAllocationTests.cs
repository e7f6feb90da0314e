using System.Net;
using System.Net.Sockets;
using WsGen.Protocol;

namespace WsGen.Tests.Server;

/// <summary>Steady-state echo allocates nothing on the loop thread: read, parse, unmask, dispatch, send.
/// Allocation counts are deterministic, unlike time, so this is a test and not a benchmark.</summary>
public sealed class ZeroAllocationTests
{
    private const int Warmup = 2_000;
    private const int Measured = 100_000;

    /// <summary>The loops that run on their own thread with native buffers: epoll, and io_uring when supported.</summary>
    public static TheoryData<string> NativeLoops => IoUringReactor.IsSupported ? ["epoll", "io_uring"] : ["epoll"];

    [Theory]
    [MemberData(nameof(NativeLoops))]
    public void EchoingOneHundredThousandMessages_AllocatesZeroBytesOnTheLoop(string reactor)
    {
        var endpoint = new MeasuringEcho(Warmup, Measured);
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = TestServers.LoopOf(reactor) };
        using var server = new WebSocketServer(options);
        server.Map("/", endpoint);
        server.Start();

        using var raw = RawWebSocket.Open(server.LocalEndPoint!);
        // Pipelined batches of 32-byte masked text frames, as a load generator sends them; every echo is read back.
        var frame = new byte[64];
        int frameLength = FrameWriter.WriteFrame(frame, WebSocketOpcode.Text, true, "0123456789abcdef0123456789abcdef"u8, 0x5A5A1234u);
        const int batch = 100;
        var burst = new byte[frameLength * batch];
        for (int i = 0; i < batch; i++)
            frame.AsSpan(0, frameLength).CopyTo(burst.AsSpan(i * frameLength));

        int echoed = 0;
        for (int sent = 0; sent < Warmup + Measured; sent += batch)
        {
            raw.Send(burst);
            for (int i = 0; i < batch; i++)
            {
                var reply = raw.ReadFrame();
                Assert.NotNull(reply);
                Assert.Equal(32, reply.Value.Payload.Length);
                echoed++;
            }
        }

        Assert.Equal(Warmup + Measured, echoed);
        Assert.True(endpoint.MeasuredBytes.HasValue, "the endpoint did not reach the end of the measured window");
        Assert.Equal(0, endpoint.MeasuredBytes.Value);
    }

    /// <summary>Echoes, and reads the loop thread's allocation counter at the start and end of the measured window:
    /// after <paramref name="warmup"/> messages, and <paramref name="measured"/> messages later.</summary>
    internal sealed class MeasuringEcho(int warmup, int measured) : IWebSocketEndpoint
    {
        private long _count;
        private long _start;

        public long? MeasuredBytes { get; private set; }

        public void OnOpen(WebSocketConnection conn)
        {
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            conn.Send(payload, opcode);
            _count++;
            if (_count == warmup)
                _start = GC.GetAllocatedBytesForCurrentThread();
            else if (_count == warmup + measured)
                MeasuredBytes = GC.GetAllocatedBytesForCurrentThread() - _start;
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }
}
