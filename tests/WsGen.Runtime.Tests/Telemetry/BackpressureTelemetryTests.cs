using System.Net;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using WsGen.Tests.Reactor;
using WsGen.Tests.Server;

namespace WsGen.Tests.Telemetry;

/// <summary>A connection aborted for backpressure is logged (event 6, a warning) and counted as closed with 1006,
/// and the bytes that waited for it leave the backpressure gauge; another connection keeps working.</summary>
public sealed class BackpressureTelemetryTests
{
    public static TheoryData<string> Loops => TestServers.Loops;

    /// <summary>Answers every message with 64 MiB (1024 binary messages of 64 KiB), more than any peer that does not
    /// read can take, and echoes messages that start with "echo".</summary>
    private sealed class Flood : IWebSocketEndpoint
    {
        private static readonly byte[] Chunk = new byte[64 * 1024];

        public void OnOpen(WebSocketConnection conn)
        {
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            if (payload.StartsWith("echo"u8))
            {
                conn.Send(payload, opcode);
                return;
            }
            for (int i = 0; i < 1024 && conn.IsOpen; i++)
                conn.Send(Chunk);
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void A_connection_over_MaxBackpressure_is_logged_and_counted(string reactor)
    {
        using var meters = new TestMeterFactory();
        var logs = new TestLoggerFactory();
        using var closes = new MetricCollector<long>(meters, "WsGen", "wsgen.closes");
        using var backpressure = new MetricCollector<long>(meters, "WsGen", "wsgen.backpressure.bytes");
        var options = TestServers.OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        options.MaxBackpressure = 1024 * 1024;
        options.MeterFactory = meters;
        options.LoggerFactory = logs;
        using var server = new WebSocketServer(options);
        server.Map("*", new Flood());
        server.Start();

        using var other = RawWebSocket.Open(server.LocalEndPoint!);
        using (var slow = RawWebSocket.Open(server.LocalEndPoint!))
        {
            slow.SendFrame(0x82, "flood"u8);   // and never read
            Assert.True(SocketTestExtensions.WaitUntil(() => logs.Logger.Collector.GetSnapshot().Any(r => r.Id.Id == 6)),
                "no BackpressureExceeded event");
        }

        var aborted = Assert.Single(logs.Logger.Collector.GetSnapshot(), r => r.Id.Id == 6);
        Assert.Equal(LogLevel.Warning, aborted.Level);
        Assert.Equal("Connection to * aborted: more than 1048576 bytes waited for a slow peer", aborted.Message);
        closes.RecordObservableInstruments();
        Assert.Equal(1, closes.GetMeasurementSnapshot().Last(m => Equals(m.Tags["wsgen.close.code"], 1006)).Value);
        // The queue of the aborted connection is released once no send reads from it any more (at once with epoll and
        // io_uring; when its asynchronous send ends with the sockets loop).
        Assert.True(SocketTestExtensions.WaitUntil(() =>
        {
            backpressure.RecordObservableInstruments();
            return backpressure.LastMeasurement!.Value == 0;
        }), $"{backpressure.LastMeasurement!.Value} bytes still counted as waiting");

        other.SendFrame(0x81, "echo after the abort"u8);
        var echoed = other.ReadFrame();
        Assert.NotNull(echoed);
        Assert.Equal("echo after the abort"u8.ToArray(), echoed.Value.Payload);
    }
}
