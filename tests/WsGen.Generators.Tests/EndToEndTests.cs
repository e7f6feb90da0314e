using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using WsGen.Generators.Tests.Endpoints;

namespace WsGen.Generators.Tests;

/// <summary>The endpoints of this project (Endpoints/), generated at build time and served through the generated
/// <c>WsGenApp</c>, driven by .NET's ClientWebSocket.</summary>
public sealed class EndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static WebSocketServer Start()
    {
        var server = WsGenApp.CreateServer(new() { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        return server;
    }

    private static async Task<ClientWebSocket> ConnectAsync(WebSocketServer server, string path, string? subProtocol = null)
    {
        var client = new ClientWebSocket();
        if (subProtocol is not null)
            client.Options.AddSubProtocol(subProtocol);
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.LocalEndPoint!.Port}{path}"), cts.Token);
        return client;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync(ClientWebSocket client)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, cts.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
                return (result.MessageType, message.ToArray());
        }
    }

    /// <summary>Sends <paramref name="payload"/> in fragments of <paramref name="fragment"/> bytes and returns the echo.</summary>
    private static async Task<(WebSocketMessageType, byte[])> EchoAsync(ClientWebSocket client, byte[] payload, WebSocketMessageType type, int fragment)
    {
        using var cts = new CancellationTokenSource(Timeout);
        int offset = 0;
        do
        {
            int n = Math.Min(fragment, payload.Length - offset);
            await client.SendAsync(payload.AsMemory(offset, n), type, offset + n == payload.Length, cts.Token);
            offset += n;
        }
        while (offset < payload.Length);
        return await ReceiveAsync(client);
    }

    private static void AssertMessage(WebSocketMessageType type, byte[] payload, (WebSocketMessageType Type, byte[] Payload) received)
    {
        Assert.Equal(type, received.Type);
        Assert.Equal(payload, received.Payload);
    }

    [Fact]
    public void CreateServer_AppliesTheAttributeSizes()
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        using var server = WsGenApp.CreateServer(options);
        Assert.Equal(SpanEcho.MaxConnections + FrameEcho.MaxConnections + Failing.MaxConnections + Guarded.MaxConnections + Chooser.MaxConnections
            + Feed.MaxConnections, options.MaxConnections);
        Assert.Equal(8 * 1024 * 1024, options.MaxBackpressure);
        Assert.Equal(64 * 1024, options.ReceiveBufferSize);
        Assert.Equal(WebSocketLoop.Default, options.Loop);   // the loop is the runtime's choice, at start
        Assert.Equal(["/chooser", "/echo", "/fail", "/feed", "/frames", "/guarded"], WsGenApp.CreateRoutes().Select(r => r.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DeclaredTopics_SubscribeAtOpen_AndAPublishFromAHandlerSkipsItsSender()
    {
        var feed = WsGenApp.CreateRoutes().Single(r => r.Path == "/feed").Options;
        Assert.Equal(["feed"], feed.Topics);
        Assert.Equal(4096, feed.PublishLimit);
        Assert.Equal(SlowSubscriberPolicy.Close, feed.SlowSubscribers);
        Assert.Equal(1024 * 1024, WsGenApp.CreateRoutes().Single(r => r.Path == "/echo").Options.PublishLimit);

        using var server = WsGenApp.CreateServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loops = 2 });
        server.Start();
        using var a = await ConnectAsync(server, "/feed");
        using var b = await ConnectAsync(server, "/feed");
        Assert.Equal(2, server.SubscriberCount("feed"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await a.SendAsync("from a"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
        AssertMessage(WebSocketMessageType.Text, "from a"u8.ToArray(), await ReceiveAsync(b));
        await b.SendAsync("from b"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
        AssertMessage(WebSocketMessageType.Text, "from b"u8.ToArray(), await ReceiveAsync(a));
    }

    [Theory]
    [InlineData("/echo")]
    [InlineData("/frames")]
    public async Task EchoesTextAndBinaryOfEverySize_WholeAndFragmented(string path)
    {
        using var server = Start();
        using var client = await ConnectAsync(server, path);
        foreach (int size in new[] { 0, 1, 125, 126, 65535, 65536, 65537, 1 << 20 })
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            foreach (int fragment in new[] { int.MaxValue, 1000 })
            {
                if (size > 70_000 && fragment == 1000)
                    continue;
                AssertMessage(WebSocketMessageType.Binary, payload, await EchoAsync(client, payload, WebSocketMessageType.Binary, Math.Max(1, fragment)));
            }
        }
        var fragmented = RandomNumberGenerator.GetBytes(1 << 20);
        AssertMessage(WebSocketMessageType.Binary, fragmented, await EchoAsync(client, fragmented, WebSocketMessageType.Binary, 100_000));
        foreach (var text in new[] { "", "a", "żółć 日本語 🎉", new string('x', 70_000) + "€" })
        {
            var payload = Encoding.UTF8.GetBytes(text);
            AssertMessage(WebSocketMessageType.Text, payload, await EchoAsync(client, payload, WebSocketMessageType.Text, 7));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task FrameEndpoint_AgreesSubProtocol_EchoesAfterAnAwait_AndSeesOpenAndClose()
    {
        int opened = Volatile.Read(ref FrameEcho.Opened);
        int closed = Volatile.Read(ref FrameEcho.Closed);
        using var server = Start();
        using (var client = await ConnectAsync(server, "/frames", "echo.v1"))
        {
            Assert.Equal("echo.v1", client.SubProtocol);
            var y = "y"u8.ToArray();
            AssertMessage(WebSocketMessageType.Binary, y, await EchoAsync(client, y, WebSocketMessageType.Binary, 1));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }
        server.Stop();
        Assert.Equal(opened + 1, Volatile.Read(ref FrameEcho.Opened));
        Assert.Equal(closed + 1, Volatile.Read(ref FrameEcho.Closed));
    }

    [Theory]
    [InlineData("sync", "sync failure")]
    [InlineData("later", "async failure")]
    public async Task HandlerFailure_ReachesOnError_AndClosesWith1011(string message, string error)
    {
        using var server = Start();
        using var client = await ConnectAsync(server, "/fail");
        using var cts = new CancellationTokenSource(Timeout);
        await client.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cts.Token);
        var result = await client.ReceiveAsync(new byte[256], cts.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, client.CloseStatus);
        Assert.Contains(error, Failing.Errors);
    }

    [Fact]
    public async Task UpgradeHooks_RefuseAndAccept_OnTheDispatchersInstance_WithStateAndChosenSubProtocol()
    {
        using var server = Start();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(server, "/guarded?key=nope"));
        Assert.Contains("403", refused.Message);

        using var ann = await ConnectAsync(server, "/guarded?key=open&name=ann");
        Assert.Equal("ann #1", Encoding.UTF8.GetString((await ReceiveAsync(ann)).Payload));
        using var bob = await ConnectAsync(server, "/guarded?key=open&name=bob");
        Assert.Equal("bob #2", Encoding.UTF8.GetString((await ReceiveAsync(bob)).Payload));

        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("a");
        client.Options.AddSubProtocol("b");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.LocalEndPoint!.Port}/chooser?p=b"), CancellationToken.None);
        Assert.Equal("b", client.SubProtocol);
        AssertMessage(WebSocketMessageType.Text, "x"u8.ToArray(), await EchoAsync(client, "x"u8.ToArray(), WebSocketMessageType.Text, 1));
    }
}
