using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>The echo sample's endpoint over TLS (wss://) on every loop and through the generated code, driven by
/// real peers that trust the test CA: .NET's ClientWebSocket, the npm ws package and Python's websockets.</summary>
public sealed class TlsInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string> Reactors => TestServers.Reactors;

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task ClientWebSocket_EchoesEverySize_Fragmented_AndCloses(string reactor)
    {
        using var server = StartTls(reactor);
        using var client = await ConnectAsync(server);
        foreach (int size in new[] { 0, 1, 125, 126, 65535, 65536, 16 * 1024 + 1, 1 << 20, 16 << 20 })
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Binary));
        }
        foreach (var text in new[] { "", "a", "żółć 日本語 🎉", new string('x', 70_000) + "€" })
        {
            var payload = Encoding.UTF8.GetBytes(text);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Text));
        }

        var parts = new[] { RandomNumberGenerator.GetBytes(3), RandomNumberGenerator.GetBytes(100_000), [], RandomNumberGenerator.GetBytes(7) };
        for (int i = 0; i < parts.Length; i++)
            await client.SendAsync(parts[i], WebSocketMessageType.Binary, i == parts.Length - 1, CancellationToken.None);
        var (type, got) = await EchoInteropTests.ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(parts.SelectMany(p => p).ToArray(), got);

        await client.CloseAsync((WebSocketCloseStatus)4001, "bye", CancellationToken.None);
        Assert.Equal((WebSocketCloseStatus)4001, client.CloseStatus);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task ClientWebSocket_TwoThousandMessagesComeBackInOrder_OnManyConnections(string reactor)
    {
        using var server = StartTls(reactor);
        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ConnectAsync(server)));
        await Task.WhenAll(clients.Select(async (client, c) =>
        {
            using var cts = new CancellationTokenSource(Timeout);
            var send = Task.Run(async () =>
            {
                for (int i = 0; i < 2000; i++)
                    await client.SendAsync(Encoding.UTF8.GetBytes($"{c}:{i}"), WebSocketMessageType.Text, true, cts.Token);
            });
            for (int i = 0; i < 2000; i++)
            {
                var (_, message) = await EchoInteropTests.ReceiveMessageAsync(client, cts.Token);
                Assert.Equal($"{c}:{i}", Encoding.UTF8.GetString(message));
            }
            await send;
        }));
        foreach (var client in clients)
            client.Dispose();
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task NpmWsClient_WithTheTestCa_PassesItsChecks(string reactor)
    {
        using var server = StartTls(reactor);
        string output = await RunPeerAsync("node", ["ws-client.mjs", Url(server, "/npm").ToString(), TestCertificates.CaPem]);
        Assert.Contains("ok binary 16777216 B", output);
        Assert.Contains("ok fragmented binary", output);
        Assert.Contains("ok ping/pong", output);
        Assert.Contains("ok close handshake", output);
        Assert.Contains("ok reserved opcode closes with 1002", output);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task PythonWebsockets_WithAnSslContextTrustingTheTestCa_PassesItsChecks(string reactor)
    {
        using var server = StartTls(reactor);
        string output = await RunPeerAsync(DebianPython, ["wss_client.py", Url(server, "/python").ToString(), TestCertificates.CaPem]);
        Assert.Contains("ok binary 16777216 B", output);
        Assert.Contains("ok fragmented binary", output);
        Assert.Contains("ok ping/pong", output);
        Assert.Contains("ok 2000 ordered", output);
        Assert.Contains("ok close handshake", output);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task PlainAndTlsListeners_ServeSideBySide(string reactor)
    {
        using var server = StartTls(reactor, o => o.TlsEndPoint = new IPEndPoint(IPAddress.Loopback, 0));
        Assert.NotEqual(server.LocalEndPoint!.Port, server.TlsLocalEndPoint!.Port);
        using var secure = await ConnectAsync(server);
        using var plain = await EchoInteropTests.ConnectAsync(server);
        for (int i = 0; i < 10; i++)
        {
            var payload = RandomNumberGenerator.GetBytes(100 + i);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(secure, payload, WebSocketMessageType.Binary));
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(plain, payload, WebSocketMessageType.Binary));
        }

        // ws:// to the TLS port is refused (the TLS engine sees no ClientHello), and the two others keep working.
        using var wrong = new ClientWebSocket();
        await Assert.ThrowsAnyAsync<WebSocketException>(() => wrong.ConnectAsync(new Uri($"ws://{server.TlsLocalEndPoint}/"), CancellationToken.None));
        Assert.Equal("still here"u8.ToArray(), await EchoInteropTests.EchoAsync(secure, "still here"u8.ToArray(), WebSocketMessageType.Text));
        Assert.Equal("still here"u8.ToArray(), await EchoInteropTests.EchoAsync(plain, "still here"u8.ToArray(), WebSocketMessageType.Text));
    }

    /// <summary>Starts the echo endpoint with TLS (the test CA's server certificate) on the loop a test names.</summary>
    internal static WebSocketServer StartTls(string reactor, Action<WebSocketServerOptions>? configure = null) =>
        TestServers.StartEcho(reactor, o =>
        {
            o.Tls = TestCertificates.ServerOptions();
            configure?.Invoke(o);
        });

    internal static Uri Url(WebSocketServer server, string path = "/") => new($"wss://{server.TlsLocalEndPoint}{path}");

    internal static async Task<ClientWebSocket> ConnectAsync(WebSocketServer server, string path = "/")
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ChainsToCa(certificate);
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(Url(server, path), cts.Token);
        return client;
    }

    /// <summary>The interpreter of Debian's python3-websockets (tests/install-peers.sh), not another python3 on PATH.</summary>
    internal static string DebianPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    internal static async Task<string> RunPeerAsync(string program, string[] arguments)
    {
        var interop = Path.Combine(EchoInteropTests.RepositoryRoot(), "tests", "interop");
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = interop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var peer = Process.Start(start)!;
        var stdout = peer.StandardOutput.ReadToEndAsync();
        var stderr = peer.StandardError.ReadToEndAsync();
        if (!peer.WaitForExit(Timeout))
        {
            peer.Kill();
            Assert.Fail($"{program} did not finish: {await stdout}");
        }
        string output = await stdout + await stderr;
        Assert.True(peer.ExitCode == 0, output);
        Assert.Contains("all ok", output);
        return output;
    }
}
