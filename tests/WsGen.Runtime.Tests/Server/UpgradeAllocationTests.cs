using System.Net;
using WsGen.Reactor;
using WsGen.Server;

namespace WsGen.Tests.Server;

/// <summary>An upgrade allocates, on the loop thread, only what the connection keeps: the loop's connection object and
/// the <see cref="WebSocketConnection"/>. Parsing the request head, routing, validating and answering allocate nothing
/// (their garbage would otherwise stay resident in the GC's young generation under a connection storm). A synchronous
/// upgrade hook that accepts adds nothing either.</summary>
/// <remarks>Alone, with no other test opening sockets meanwhile: the epoll loop's tables are indexed by descriptor, and
/// descriptors other tests hold would push the measured connections past the ones warmed up, into a table's first
/// growth (it failed that way, 32 B over per connection, in a full parallel run).</remarks>
[Collection(nameof(WsGen.Tests.Reactor.DescriptorLimitCollection))]
public sealed class UpgradeAllocationTests
{
    private const int Warmup = 150;
    private const int Measured = 100;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UpgradingAHundredConnections_AllocatesOnlyTheirConnectionObjectsOnTheEpollLoop(bool withUpgradeHook)
    {
        long perConnection = SizeOfConnectionObjects();
        var endpoint = new MeasuringOpen();
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = WebSocketLoop.Epoll };
        using var server = new WebSocketServer(options);
        server.Map("/", endpoint, withUpgradeHook ? new WebSocketEndpointOptions { OnUpgrade = static _ => new(WebSocketUpgradeDecision.Accept()) } : null);
        server.Start();

        // Warm-up: JIT the path and grow the loops' connection tables past what the measured window needs, then close.
        var warm = new List<RawWebSocket>();
        for (int i = 0; i < Warmup; i++)
            warm.Add(RawWebSocket.Open(server.LocalEndPoint!));
        foreach (var raw in warm)
            raw.Dispose();
        SpinWait.SpinUntil(() => endpoint.Closed == Warmup, TimeSpan.FromSeconds(30));
        Assert.Equal(Warmup, endpoint.Closed);

        endpoint.StartMeasuring(Measured);
        var held = new List<RawWebSocket>();
        try
        {
            for (int i = 0; i <= Measured; i++)
                held.Add(RawWebSocket.Open(server.LocalEndPoint!));
            SpinWait.SpinUntil(() => endpoint.MeasuredBytes.HasValue, TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var raw in held)
                raw.Dispose();
        }

        Assert.True(endpoint.MeasuredBytes.HasValue, "the endpoint did not see the end of the measured window");
        Assert.InRange(endpoint.MeasuredBytes.Value, 0, Measured * perConnection);
    }

    /// <summary>The bytes a loop's connection and a WebSocketConnection take on the managed heap, measured on this thread.</summary>
    private static long SizeOfConnectionObjects()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var native = new LoopConnection<EpollBackend>(null!, -1, 0);
        var conn = new WebSocketConnection(null!, native, 0);
        long size = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(conn);
        return size;
    }

    /// <summary>Reads the loop thread's allocation counter in OnOpen, at the start and end of the measured window.</summary>
    private sealed class MeasuringOpen : IWebSocketEndpoint
    {
        private int _remaining = -1;
        private long _start;
        private int _closed;

        public long? MeasuredBytes { get; private set; }

        public int Closed => Volatile.Read(ref _closed);

        /// <summary>The next OnOpen starts the window; the one <paramref name="count"/> opens later ends it.</summary>
        public void StartMeasuring(int count) => Volatile.Write(ref _remaining, count + 1);

        public void OnOpen(WebSocketConnection conn)
        {
            long now = GC.GetAllocatedBytesForCurrentThread();
            int remaining = Volatile.Read(ref _remaining);
            if (remaining <= 0)
                return;
            if (remaining == Measured + 1)
                _start = now;
            else if (remaining == 1)
                MeasuredBytes = now - _start;
            Volatile.Write(ref _remaining, remaining - 1);
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status) => Interlocked.Increment(ref _closed);
    }
}
