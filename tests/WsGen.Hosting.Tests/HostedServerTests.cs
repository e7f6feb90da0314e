using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace WsGen.Hosting.Tests;

/// <summary>
/// A WsGen server under the Generic Host (<c>AddWsGen</c>): start and stop, the <c>WsGen</c> configuration section,
/// endpoints built from the container, 1001 on stop with nothing accepted lost, and the log events and metrics that
/// reach the host's logging and meter factory. The clients are .NET's <see cref="ClientWebSocket"/> and raw sockets.
/// </summary>
public sealed class HostedServerTests
{
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>A host serving <see cref="HostedEcho"/> with <paramref name="settings"/> as its configuration (port 0
    /// on loopback unless they say otherwise), logging to <paramref name="logs"/> when given.</summary>
    internal static IHost BuildHost(Dictionary<string, string?>? settings = null, FakeLoggerProvider? logs = null,
        Action<WebSocketServerOptions>? configure = null, TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WsGen:Address"] = "127.0.0.1",
            ["WsGen:Port"] = "0",
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        }
        if (shutdownTimeout is { } timeout)
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<EchoLedger>();
        builder.Services.AddSingleton(new Greeting("hi "));
        builder.Services.AddWsGen(WsGenApp.CreateServer, configure);
        return builder.Build();
    }

    private static Uri Url(IHost host) => new($"ws://{host.Services.GetRequiredService<WebSocketServer>().LocalEndPoint}/echo");

    private static async Task<ClientWebSocket> ConnectAsync(IHost host)
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(Url(host), cts.Token);
        return client;
    }

    /// <summary>A valid upgrade request for <paramref name="path"/>, for clients on a raw socket.</summary>
    private static byte[] UpgradeRequest(string path) => Encoding.ASCII.GetBytes(
        $"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

    internal static async Task<string?> ReceiveTextAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
                return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
                return Encoding.UTF8.GetString(message.ToArray());
        }
    }

    [Fact]
    public async Task Start_binds_and_serves_an_endpoint_built_from_the_container_and_stop_ends_it()
    {
        using var host = BuildHost();
        await host.StartAsync();
        var server = host.Services.GetRequiredService<WebSocketServer>();
        Assert.NotEqual(0, server.LocalEndPoint!.Port);

        using (var client = await ConnectAsync(host))
        {
            using var cts = new CancellationTokenSource(Timeout);
            await client.SendAsync("a:ping"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
            Assert.Equal("hi a:ping", await ReceiveTextAsync(client, cts.Token));
        }
        Assert.Equal(1, host.Services.GetRequiredService<EchoLedger>().Received["a"]);

        await host.StopAsync();
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(server.LocalEndPoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task A_taken_port_fails_the_hosts_start()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        using var host = BuildHost(new() { ["WsGen:Port"] = port.ToString() });

        var error = await Assert.ThrowsAsync<SocketException>(() => host.StartAsync());
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
    }

    [Fact]
    public async Task Invalid_options_fail_the_hosts_start_naming_each_key()
    {
        using var host = BuildHost(new()
        {
            ["WsGen:Port"] = "70000",
            ["WsGen:Address"] = "example",
            ["WsGen:Loop"] = "poll",
            ["WsGen:Loops"] = "0",
            ["WsGen:IdleTimeout"] = "-00:00:01",
            ["WsGen:PauseReadingThreshold"] = "4096",
            ["WsGen:MaxBackpressure"] = "2048",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        string message = string.Join("\n", error.Failures);
        Assert.Contains("WsGen:Port 70000 is not between 0 and 65535", message);
        Assert.Contains("WsGen:Address 'example' is not an IP address", message);
        Assert.Contains("WsGen:Loop 'poll' is not one of default, io_uring, epoll, kqueue, iocp, sockets", message);
        Assert.Contains("WsGen:Loops 0 is below its minimum, 1", message);
        Assert.Contains("WsGen:IdleTimeout -00:00:01 must be zero or more", message);
        Assert.Contains("WsGen:PauseReadingThreshold 4096 is above WsGen:MaxBackpressure 2048", message);
        Assert.Equal(6, error.Failures.Count());
    }

    [Fact]
    public async Task Configuration_binds_every_setting_over_the_attributes_values()
    {
        WebSocketServerOptions? seen = null;
        using var host = BuildHost(new()
        {
            ["WsGen:Address"] = "localhost",
            ["WsGen:Loop"] = "sockets",
            ["WsGen:Loops"] = "2",
            ["WsGen:HandshakeTimeout"] = "00:00:03",
            ["WsGen:IdleTimeout"] = "00:01:30",
            ["WsGen:CloseTimeout"] = "00:00:02",
            ["WsGen:DrainTimeout"] = "00:00:04",
            ["WsGen:MaxHandshakeBytes"] = "4096",
            ["WsGen:MaxHeaderCount"] = "32",
            ["WsGen:MaxConnections"] = "500",
            ["WsGen:ReceiveBufferSize"] = "131072",
            ["WsGen:PauseReadingThreshold"] = "65536",
            ["WsGen:MaxBackpressure"] = "1048576",
        }, configure: o => seen = o);
        await host.StartAsync();

        Assert.NotNull(seen);
        Assert.Equal(IPAddress.Loopback, seen.EndPoint.Address);
        Assert.Equal(WebSocketLoop.Sockets, seen.Loop);
        Assert.Equal(2, seen.Loops);
        Assert.Equal(TimeSpan.FromSeconds(3), seen.HandshakeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), seen.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), seen.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(4), seen.DrainTimeout);
        Assert.Equal(4096, seen.MaxHandshakeBytes);
        Assert.Equal(32, seen.MaxHeaderCount);
        // These three the generated CreateServer took from the attribute; configuration wins.
        Assert.NotEqual(WsGenApp.MaxConnections, 500);
        Assert.Equal(500, seen.MaxConnections);
        Assert.Equal(131072, seen.ReceiveBufferSize);
        Assert.Equal(65536, seen.PauseReadingThreshold);
        Assert.Equal(1048576, seen.MaxBackpressure);

        var server = host.Services.GetRequiredService<WebSocketServer>();
        Assert.Equal("sockets", server.ReactorName);
        Assert.Equal(2, server.LoopCount);
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_a_WsGen_section_the_attributes_values_stay()
    {
        WebSocketServerOptions? seen = null;
        using var host = BuildHost(configure: o => seen = o);
        await host.StartAsync();
        Assert.Equal(WsGenApp.MaxConnections, seen!.MaxConnections);
        Assert.Equal(WsGenApp.ReceiveBufferSize, seen.ReceiveBufferSize);
        Assert.Equal(WsGenApp.MaxBackpressure, seen.MaxBackpressure);
        await host.StopAsync();
    }

    /// <summary>Clients send as fast as they can while the host stops: each gets 1001, and every message the endpoint
    /// accepted (counted in the ledger) comes back to its client before the close frame.</summary>
    [Fact]
    public async Task Stop_closes_real_clients_with_1001_and_loses_no_accepted_message()
    {
        // A long drain: a stop that had to wait for it would show.
        using var host = BuildHost(new() { ["WsGen:DrainTimeout"] = "00:00:20" });
        await host.StartAsync();
        const int Clients = 8;
        var clients = new List<ClientWebSocket>();
        for (int i = 0; i < Clients; i++)
            clients.Add(await ConnectAsync(host));
        using var cts = new CancellationTokenSource(Timeout);

        var runs = clients.Select((client, i) => Task.Run(async () =>
        {
            using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            // At most 64 messages ahead of the echoes: every client keeps sending, none floods the others out of the
            // thread pool (a send that completes at once never yields its thread).
            using var window = new SemaphoreSlim(64);
            var sender = Task.Run(async () =>
            {
                try
                {
                    for (int n = 0; !stopSending.IsCancellationRequested; n++)
                    {
                        await window.WaitAsync(stopSending.Token);
                        await client.SendAsync(Encoding.UTF8.GetBytes($"c{i}:{n}"), WebSocketMessageType.Text, true, stopSending.Token);
                    }
                }
                catch (OperationCanceledException) when (stopSending.IsCancellationRequested)
                {
                    // The server's close frame arrived: this client stops sending and answers it.
                }
            });
            int echoed = 0;
            while (await ReceiveTextAsync(client, cts.Token) is { } text)
            {
                Assert.Equal($"hi c{i}:{echoed}", text);
                echoed++;
                window.Release();
            }
            stopSending.Cancel();
            await sender;
            // A cancelled send may have aborted the socket; otherwise answer the close as a peer should.
            if (client.State == WebSocketState.CloseReceived)
                await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "", cts.Token);
            return (echoed, client.CloseStatus);
        })).ToList();

        var ledger = host.Services.GetRequiredService<EchoLedger>();
        while (ledger.Received.Count < Clients || ledger.Received.Values.Min() < 50)
            await Task.Delay(10, cts.Token);   // polls a condition, under the test's deadline
        var watch = Stopwatch.StartNew();
        await host.StopAsync(cts.Token);
        var stopped = watch.Elapsed;

        for (int i = 0; i < Clients; i++)
        {
            var (echoed, status) = await runs[i];
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
            Assert.Equal(ledger.Received[$"c{i}"], echoed);
            Assert.True(echoed >= 50);
        }
        // Every client answered the close: the server did not wait for its drain timeout (20 s).
        Assert.True(stopped < TimeSpan.FromSeconds(15), $"stop took {stopped}");
        foreach (var client in clients)
            client.Dispose();
    }

    /// <summary>A peer that never answers the close frame cannot hold the host past its shutdown timeout: the drain
    /// timeout (30 s here) is kept within four fifths of it.</summary>
    [Fact]
    public async Task Stop_drains_within_the_hosts_shutdown_timeout()
    {
        WebSocketServerOptions? seen = null;
        using var host = BuildHost(configure: o => seen = o, shutdownTimeout: TimeSpan.FromSeconds(1),
            settings: new() { ["WsGen:CloseTimeout"] = "00:00:30", ["WsGen:DrainTimeout"] = "00:00:30" });
        await host.StartAsync();
        Assert.Equal(TimeSpan.FromSeconds(0.8), seen!.DrainTimeout);
        var endPoint = host.Services.GetRequiredService<WebSocketServer>().LocalEndPoint!;
        using var silent = new TcpClient();
        await silent.ConnectAsync(endPoint);
        var stream = silent.GetStream();
        await stream.WriteAsync(UpgradeRequest("/echo"));
        var head = new byte[256];
        Assert.True(await stream.ReadAsync(head) > 0);
        Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString(head));

        var watch = Stopwatch.StartNew();
        await host.StopAsync();
        // Without the clamp the stop would wait 30 s for the silent peer.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stop took {watch.Elapsed}");
        Assert.Equal(0, host.Services.GetRequiredService<WebSocketServer>().ConnectionCount);
    }

    [Fact]
    public async Task Log_events_and_metrics_reach_the_hosts_logging_and_meter_factory()
    {
        using var logs = new FakeLoggerProvider();
        using var host = BuildHost(logs: logs);
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var messages = new MetricCollector<long>(meters, "WsGen", "wsgen.messages");
        using var rejected = new MetricCollector<long>(meters, "WsGen", "wsgen.rejected_handshakes");
        using var closes = new MetricCollector<long>(meters, "WsGen", "wsgen.closes");
        await host.StartAsync();
        var endPoint = host.Services.GetRequiredService<WebSocketServer>().LocalEndPoint!;

        using (var client = await ConnectAsync(host))
        {
            using var cts = new CancellationTokenSource(Timeout);
            for (int i = 0; i < 2; i++)
            {
                await client.SendAsync(Encoding.UTF8.GetBytes($"m:{i}"), WebSocketMessageType.Text, true, cts.Token);
                Assert.Equal($"hi m:{i}", await ReceiveTextAsync(client, cts.Token));
            }
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        using (var lost = new TcpClient())
        {
            await lost.ConnectAsync(endPoint);
            var stream = lost.GetStream();
            await stream.WriteAsync(UpgradeRequest("/nowhere"));
            var head = new byte[256];
            Assert.True(await stream.ReadAsync(head) > 0);
            Assert.StartsWith("HTTP/1.1 404", Encoding.ASCII.GetString(head));
        }
        await host.StopAsync();

        messages.RecordObservableInstruments();
        Assert.Equal(2, messages.GetMeasurementSnapshot().Last(m => Equals(m.Tags["network.io.direction"], "receive")).Value);
        Assert.Equal(2, messages.GetMeasurementSnapshot().Last(m => Equals(m.Tags["network.io.direction"], "transmit")).Value);
        rejected.RecordObservableInstruments();
        var notFound = rejected.GetMeasurementSnapshot().Last(m => Equals(m.Tags["http.response.status_code"], 404));
        Assert.Equal(1, notFound.Value);
        Assert.Equal(endPoint.Port, notFound.Tags["server.port"]);
        closes.RecordObservableInstruments();
        Assert.Equal(1, closes.GetMeasurementSnapshot().Last(m => Equals(m.Tags["wsgen.close.code"], 1000)).Value);

        var records = logs.Collector.GetSnapshot().Where(r => r.Category == "WsGen.WebSocketServer").ToList();
        Assert.Contains(records, r => r.Id is { Id: 1, Name: "Listening" } && r.Level == LogLevel.Information && r.Message.Contains($"ws://{endPoint}/"));
        Assert.Contains(records, r => r.Id is { Id: 2, Name: "HandshakeRefused" } && r.Message == "Upgrade refused with HTTP 404: no endpoint at this path");
        Assert.Contains(records, r => r.Id is { Id: 10, Name: "Stopping" });
        Assert.Contains(records, r => r.Id is { Id: 11, Name: "Stopped" });
    }
}
