using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>The echo sample's endpoint served by WsGen, driven by real peers: .NET's ClientWebSocket, WsGen's
/// own client and the npm ws package. Every test runs on each reactor.</summary>
public sealed class EchoInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Reactors => TestServers.Reactors;

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task ClientWebSocket_EchoesBinaryAndTextOfEverySize(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        using var client = await ConnectAsync(server);
        foreach (int size in new[] { 0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 << 20 })
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            Assert.Equal(payload, await EchoAsync(client, payload, WebSocketMessageType.Binary));
        }
        foreach (var text in new[] { "", "a", "żółć 日本語 🎉 \u007f", new string('x', 70_000) + "€" })
        {
            var payload = Encoding.UTF8.GetBytes(text);
            Assert.Equal(payload, await EchoAsync(client, payload, WebSocketMessageType.Text));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task ClientWebSocket_FragmentedMessageComesBackWhole(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        using var client = await ConnectAsync(server);
        var parts = new[] { RandomNumberGenerator.GetBytes(3), RandomNumberGenerator.GetBytes(100_000), [], RandomNumberGenerator.GetBytes(7) };
        for (int i = 0; i < parts.Length; i++)
            await client.SendAsync(parts[i], WebSocketMessageType.Binary, i == parts.Length - 1, CancellationToken.None);
        var (type, got) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(parts.SelectMany(p => p).ToArray(), got);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public void WsGenClient_PingIsAnsweredWithTheSamePayload_AndCloseIsEchoed(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        using var client = WebSocketClient.Connect(server.Url("/any/path"));
        var ping = RandomNumberGenerator.GetBytes(125);
        client.Send(ping, WebSocketOpcode.Ping);
        var pong = client.ReadFrame();
        Assert.Equal(WebSocketOpcode.Pong, pong.Opcode);
        Assert.Equal(ping, pong.Payload.ToArray());
        pong.Release();

        client.SendFrame(WebSocketOpcode.Text, false, "hel"u8);
        client.Send(RandomNumberGenerator.GetBytes(10), WebSocketOpcode.Ping);   // a control frame between fragments
        client.SendFrame(WebSocketOpcode.Continuation, true, "lo"u8);
        var first = client.ReadFrame();
        var second = client.ReadFrame();
        Assert.Equal(WebSocketOpcode.Pong, first.Opcode);
        Assert.Equal(WebSocketOpcode.Text, second.Opcode);
        Assert.Equal("hello", Encoding.UTF8.GetString(second.Payload.Span));
        first.Release();
        second.Release();

        client.Send(Array.Empty<byte>());
        var empty = client.ReadFrame();
        Assert.Equal(0, empty.Payload.Length);
        empty.Release();

        client.Close(WebSocketCloseCode.NormalClosure, "bye");
        Assert.False(client.IsOpen);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task ThousandConcurrentConnections_EachEchoes(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        using var gate = new SemaphoreSlim(200);
        var clients = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ =>
        {
            await gate.WaitAsync();
            try { return await ConnectAsync(server); }
            finally { gate.Release(); }
        }));
        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            for (int round = 0; round < 3; round++)
            {
                var payload = Encoding.UTF8.GetBytes($"connection {i} round {round}");
                Assert.Equal(payload, await EchoAsync(client, payload, WebSocketMessageType.Text));
            }
        }));
        Assert.Equal(1000, server.ConnectionCount);
        foreach (var c in clients)
            c.Dispose();
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task TwoLoopsOnOnePort_ShareTheConnections_AndEveryOneEchoes(string reactor)
    {
        using var server = TestServers.StartEcho(reactor, o => o.Loops = 2);
        Assert.Equal(2, server.LoopCount);
        var clients = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => ConnectAsync(server)));
        Assert.Equal(200, server.ConnectionCount);
        Assert.All(server.ConnectionsPerLoop, count => Assert.True(count > 0, "SO_REUSEPORT should spread connections over both loops"));
        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            var payload = Encoding.UTF8.GetBytes($"client {i}");
            Assert.Equal(payload, await EchoAsync(client, payload, WebSocketMessageType.Text));
        }));
        foreach (var c in clients)
            c.Dispose();
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task NpmWsClient_PassesItsChecks(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        var interop = Path.Combine(RepositoryRoot(), "tests", "interop");
        Assert.True(Directory.Exists(Path.Combine(interop, "node_modules", "ws")),
            "the npm ws package is missing: run `npm ci` in tests/interop (test.sh and .ci/run do)");
        var start = new ProcessStartInfo("node", ["ws-client.mjs", server.Url("/npm").ToString()])
        {
            WorkingDirectory = interop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(Timeout), "the ws client did not finish");
        string output = await stdout + await stderr;
        Assert.True(node.ExitCode == 0, output);
        Assert.Contains("all ok", output);
        Assert.Contains("ok fragmented binary", output);
        Assert.Contains("ok reserved opcode closes with 1002", output);
    }

    internal static async Task<ClientWebSocket> ConnectAsync(WebSocketServer server, string path = "/")
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(server.Url(path), cts.Token);
        return client;
    }

    internal static async Task<byte[]> EchoAsync(ClientWebSocket client, byte[] payload, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var send = client.SendAsync(payload, type, true, cts.Token);
        var receive = ReceiveMessageAsync(client, cts.Token);
        await send;
        var (gotType, got) = await receive;
        Assert.Equal(type, gotType);
        return got;
    }

    internal static async Task<(WebSocketMessageType, byte[])> ReceiveMessageAsync(ClientWebSocket client, CancellationToken ct = default)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, ct);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
                return (result.MessageType, message.ToArray());
        }
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "WsGen.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("WsGen.sln not found above the test folder.");
    }
}
