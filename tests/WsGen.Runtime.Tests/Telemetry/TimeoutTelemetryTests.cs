using System.Net;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using WsGen.Tests.Reactor;
using WsGen.Tests.Server;

namespace WsGen.Tests.Telemetry;

/// <summary>Timeouts and loop failures reach the log with their event IDs, and a timed-out handshake is counted as
/// refused with 408.</summary>
public sealed class TimeoutTelemetryTests
{
    [Fact]
    public void Handshake_idle_and_close_timeouts_are_logged()
    {
        using var meters = new TestMeterFactory();
        var logs = new TestLoggerFactory();
        using var rejected = new MetricCollector<long>(meters, "WsGen", "wsgen.rejected_handshakes");
        var options = TestServers.OptionsFor("epoll", new IPEndPoint(IPAddress.Loopback, 0));
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(100);
        options.IdleTimeout = TimeSpan.FromMilliseconds(100);
        options.CloseTimeout = TimeSpan.FromMilliseconds(100);
        options.MeterFactory = meters;
        options.LoggerFactory = logs;
        using var server = new WebSocketServer(options);
        server.Map("*", new Echo.EchoEndpoint());
        server.Start();

        // Sends nothing: 408 once the handshake timeout passes (the loop checks timeouts about once a second).
        using (var mute = RawWebSocket.ConnectTcp(server.LocalEndPoint!))
            Assert.StartsWith("HTTP/1.1 408 ", mute.ReadHttpHead());

        // Opens, then answers neither the ping nor the close: closed with 1001 for idleness, then TCP after the close
        // timeout.
        using (var silent = RawWebSocket.Open(server.LocalEndPoint!))
        {
            Assert.Equal(1001, silent.ReadCloseCode());
            Assert.True(silent.ReadsEndOfStream());
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => logs.Logger.Collector.GetSnapshot().Any(r => r.Id.Id == 8)), "no CloseTimedOut event");
        var records = logs.Logger.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Id is { Id: 3, Name: "HandshakeTimedOut" } && r.Message.Contains("100 ms"));
        Assert.Contains(records, r => r.Id is { Id: 7, Name: "IdleTimedOut" } && r.Level == LogLevel.Debug);
        Assert.Contains(records, r => r.Id is { Id: 8, Name: "CloseTimedOut" });
        rejected.RecordObservableInstruments();
        Assert.Equal(1, rejected.GetMeasurementSnapshot().Last(m => Equals(m.Tags["http.response.status_code"], 408)).Value);
    }

    /// <summary>A loop that fails is logged as critical with its exception, and the failure reaches the caller of
    /// <see cref="WebSocketServer.Run"/>.</summary>
    [Fact]
    public void A_failing_loop_is_logged_and_its_exception_reaches_Run()
    {
        var logs = new TestLoggerFactory();
        var options = new WebSocketServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            LoggerFactory = logs,
            CreateReactor = static (handler, o) => new FailingReactor(new EpollReactor(handler, o)),
        };
        using var server = new WebSocketServer(options);
        server.Map("*", new Echo.EchoEndpoint());

        var error = Assert.Throws<InvalidOperationException>(() => server.Run(CancellationToken.None));
        Assert.Equal("the loop broke", error.Message);
        var failed = Assert.Single(logs.Logger.Collector.GetSnapshot(), r => r.Id.Id == 9);
        Assert.Equal(LogLevel.Critical, failed.Level);
        Assert.Same(error, failed.Exception);
    }

    /// <summary>A loop that listens as <paramref name="inner"/> does and fails as soon as it runs.</summary>
    private sealed class FailingReactor(IServerReactor inner) : IServerReactor
    {
        public IPEndPoint Listen(IPEndPoint endPoint, Func<IReactorConn, WsGen.Transport.IByteTransform>? transform = null) =>
            inner.Listen(endPoint, transform);

        public int ConnectionCount => inner.ConnectionCount;

        public long BackpressureBytes => inner.BackpressureBytes;

        public bool IsLoopThread => inner.IsLoopThread;

        public void Post(Action<object?> action, object? state) => inner.Post(action, state);

        public void Register(INetConn conn) => inner.Register(conn);

        public void Run(CancellationToken cancellationToken) => throw new InvalidOperationException("the loop broke");

        public void Dispose() => inner.Dispose();
    }
}
