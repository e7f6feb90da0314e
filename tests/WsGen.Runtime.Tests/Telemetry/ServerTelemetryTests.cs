using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using WsGen.Tests.Reactor;
using WsGen.Tests.Server;

namespace WsGen.Tests.Telemetry;

/// <summary>
/// The metrics (meter <c>WsGen</c>) and the log events of a server, after a known sequence of connections and messages
/// from real clients, on every loop and on the generated path.
/// </summary>
public sealed class ServerTelemetryTests
{
    public static TheoryData<string> Reactors => TestServers.Reactors;

    public static TheoryData<string> Loops => TestServers.Loops;

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task Metrics_and_log_events_count_a_known_sequence(string reactor)
    {
        using var meters = new TestMeterFactory();
        var logs = new TestLoggerFactory();
        using var messages = new MetricCollector<long>(meters, "WsGen", "wsgen.messages");
        using var bytes = new MetricCollector<long>(meters, "WsGen", "wsgen.bytes");
        using var closes = new MetricCollector<long>(meters, "WsGen", "wsgen.closes");
        using var rejected = new MetricCollector<long>(meters, "WsGen", "wsgen.rejected_handshakes");
        using var active = new MetricCollector<long>(meters, "WsGen", "wsgen.active_connections");
        using var backpressure = new MetricCollector<long>(meters, "WsGen", "wsgen.backpressure.bytes");
        using var duration = new MetricCollector<double>(meters, "WsGen", "wsgen.connection.duration");
        using var server = TestServers.StartEcho(reactor, o =>
        {
            o.MeterFactory = meters;
            o.LoggerFactory = logs;
        });
        var endPoint = server.LocalEndPoint!;

        // 1: three 5-byte text messages echoed, then a normal close (1000).
        using (var client = await EchoInteropTests.ConnectAsync(server))
        {
            for (int i = 0; i < 3; i++)
                Assert.Equal("hello", Encoding.UTF8.GetString(await EchoInteropTests.EchoAsync(client, "hello"u8.ToArray(), WebSocketMessageType.Text)));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
        }

        // 2: version 12 is refused with 426; 3: a request without a key with 400.
        using (var old = RawWebSocket.ConnectTcp(endPoint))
        {
            old.SendText(RawWebSocket.Request(version: "12"));
            Assert.StartsWith("HTTP/1.1 426 ", old.ReadHttpHead());
        }
        using (var keyless = RawWebSocket.ConnectTcp(endPoint))
        {
            keyless.SendText("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 400 ", keyless.ReadHttpHead());
        }

        // 4: an unmasked frame fails the connection with 1002; its message is not delivered.
        using (var unmasked = RawWebSocket.Open(endPoint))
        {
            unmasked.SendFrame(0x81, "hi"u8, masked: false);
            Assert.Equal(1002, unmasked.ReadCloseCode());
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 0), "the connections did not go");
        Assert.True(SocketTestExtensions.WaitUntil(() => duration.GetMeasurementSnapshot().Count == 4), $"{duration.GetMeasurementSnapshot().Count} durations recorded, 4 expected");

        Assert.Equal(3, Latest(messages, "network.io.direction", "receive", endPoint));
        Assert.Equal(3, Latest(messages, "network.io.direction", "transmit", endPoint));
        Assert.Equal(15, Latest(bytes, "network.io.direction", "receive", endPoint));
        Assert.Equal(15, Latest(bytes, "network.io.direction", "transmit", endPoint));
        Assert.Equal(1, Latest(closes, "wsgen.close.code", 1000, endPoint));
        Assert.Equal(1, Latest(closes, "wsgen.close.code", 1002, endPoint));
        Assert.Equal(2, closes.GetMeasurementSnapshot().Select(m => m.Tags["wsgen.close.code"]).Distinct().Count());
        Assert.Equal(1, Latest(rejected, "http.response.status_code", 426, endPoint));
        Assert.Equal(1, Latest(rejected, "http.response.status_code", 400, endPoint));
        active.RecordObservableInstruments();
        backpressure.RecordObservableInstruments();
        Assert.Equal(0, active.LastMeasurement!.Value);
        Assert.Equal(0, backpressure.LastMeasurement!.Value);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 60));

        var records = logs.Logger.Collector.GetSnapshot();
        var listening = Assert.Single(records, r => r.Id.Id == 1);
        Assert.Contains($"ws://{endPoint}/", listening.Message);
        Assert.Contains(records, r => r.Id.Id == 2 && r.Level == LogLevel.Debug && r.Message.Contains("426"));
        Assert.Contains(records, r => r.Id.Id == 2 && r.Message.Contains("400"));
        Assert.Contains(records, r => r.Id.Id == 4 && r.Message.Contains("1002"));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning);

        server.Stop();
        Assert.Contains(logs.Logger.Collector.GetSnapshot(), r => r.Id.Id == 11 && r.Id.Name == "Stopped");
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task Publishes_count_one_delivery_per_subscriber_and_as_messages_sent(string reactor)
    {
        using var meters = new TestMeterFactory();
        using var deliveries = new MetricCollector<long>(meters, "WsGen", "wsgen.publish.deliveries");
        using var drops = new MetricCollector<long>(meters, "WsGen", "wsgen.publish.drops");
        using var messages = new MetricCollector<long>(meters, "WsGen", "wsgen.messages");
        var options = TestServers.OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        options.MeterFactory = meters;
        options.Loops = 2;
        using var server = new WebSocketServer(options);
        server.Map("/t", new Echo.EchoEndpoint(), new WebSocketEndpointOptions { Topics = ["t"] });
        server.Start();

        using var a = await EchoInteropTests.ConnectAsync(server, "/t");
        using var b = await EchoInteropTests.ConnectAsync(server, "/t");
        Assert.True(SocketTestExtensions.WaitUntil(() => server.SubscriberCount("t") == 2), "the two connections did not subscribe");
        for (int i = 0; i < 3; i++)
            Assert.True(server.Publish("t", "tick"u8, WebSocketOpcode.Text));
        var buffer = new byte[16];
        foreach (var client in new[] { a, b })
        {
            for (int i = 0; i < 3; i++)
            {
                var received = await client.ReceiveAsync(buffer, CancellationToken.None);
                Assert.Equal("tick", Encoding.UTF8.GetString(buffer, 0, received.Count));
            }
        }

        var endPoint = server.LocalEndPoint!;
        Assert.Equal(6, LatestTotal(deliveries, endPoint));
        Assert.Equal(0, LatestTotal(drops, endPoint));
        Assert.Equal(6, Latest(messages, "network.io.direction", "transmit", endPoint));
    }

    /// <summary>The latest value of an instrument without tags of its own, checking the server's address and port.</summary>
    private static long LatestTotal(MetricCollector<long> collector, IPEndPoint endPoint)
    {
        collector.RecordObservableInstruments();
        var measurement = collector.LastMeasurement!;
        Assert.Equal(endPoint.Address.ToString(), measurement.Tags["server.address"]);
        Assert.Equal(endPoint.Port, measurement.Tags["server.port"]);
        return measurement.Value;
    }

    /// <summary>The latest value of <paramref name="collector"/> for the measurement whose tag <paramref name="tag"/>
    /// is <paramref name="value"/>, checking that it carries the server's address and port.</summary>
    private static long Latest(MetricCollector<long> collector, string tag, object value, IPEndPoint endPoint)
    {
        collector.RecordObservableInstruments();
        var measurement = collector.GetMeasurementSnapshot().Last(m => Equals(m.Tags[tag], value));
        Assert.Equal(endPoint.Address.ToString(), measurement.Tags["server.address"]);
        Assert.Equal(endPoint.Port, measurement.Tags["server.port"]);
        return measurement.Value;
    }
}
