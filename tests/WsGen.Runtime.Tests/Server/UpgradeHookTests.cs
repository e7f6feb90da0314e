using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using WsGen.Tests.Samples;
using WsGen.Tests.Reactor;

namespace WsGen.Tests.Server;

/// <summary>
/// The endpoints' upgrade hook on every loop, with real clients: accept and refuse by query, header and cookie; the
/// state attached at the upgrade seen by OnOpen and OnMessage; asynchronous decisions while other connections keep
/// echoing; clients that leave while their handshake waits; the pending set's bound and timeout.
/// </summary>
public sealed class UpgradeHookTests
{
    public static TheoryData<string> Loops => TestServers.Loops;

    private const string Token = "s3cret";

    /// <summary>Sends "hello NAME" at open, then echoes each message prefixed with "NAME: " (NAME: the state attached at the upgrade).</summary>
    /// <remarks>Each message is also written to <paramref name="heard"/> as "NAME said TEXT", when given.</remarks>
    internal sealed class NamedEcho(Channel<string>? heard = null) : IWebSocketEndpoint
    {
        public void OnOpen(WebSocketConnection conn) => conn.SendText("hello " + (string)conn.UserState!);

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            string text = Encoding.UTF8.GetString(payload);
            heard?.Writer.TryWrite($"{conn.UserState} said {text}");
            conn.SendText((string)conn.UserState! + ": " + text);
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }

    /// <summary>A token in ?token=, in Authorization: Bearer, or in the cookie "session"; the name from ?name=.</summary>
    internal static WebSocketUpgradeDecision CheckToken(WebSocketUpgradeRequest request)
    {
        bool ok = request.TryGetQueryValue("token"u8, out var query) && query.SequenceEqual(Token.ToAscii())
            || request.TryGetHeader("authorization"u8, out var auth) && auth.SequenceEqual(("Bearer " + Token).ToAscii())
            || request.TryGetCookie("session"u8, out var cookie) && cookie.SequenceEqual(Token.ToAscii());
        return ok
            ? WebSocketUpgradeDecision.Accept(state: request.GetQueryValue("name") ?? "anonymous").WithHeader("X-Hook", "accepted")
            : WebSocketUpgradeDecision.Refuse(401, "token required").WithHeader("WWW-Authenticate", "Bearer");
    }

    private static WebSocketServer Start(string reactor, WebSocketUpgradeHandler hook, Action<WebSocketServerOptions>? configure = null, int maxConnections = int.MaxValue,
        Channel<string>? heard = null, string? page = null)
    {
        var options = TestServers.OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        configure?.Invoke(options);
        var server = new WebSocketServer(options);
        if (page is not null)
            server.MapPage("/", "text/html; charset=utf-8", Encoding.UTF8.GetBytes(page));
        server.Map("/room", new NamedEcho(heard), new WebSocketEndpointOptions { OnUpgrade = hook, MaxConnections = maxConnections, SubProtocols = ["chat.v1"] });
        server.Map("/echo", new Echo.EchoEndpoint());
        server.Start();
        return server;
    }

    private static async Task<string> ReceiveText(ClientWebSocket client)
    {
        var buffer = new byte[4096];
        var result = await client.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.True(result.EndOfMessage);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private static async Task<ClientWebSocket> Connect(Uri uri, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new ClientWebSocket();
        configure?.Invoke(client.Options);
        await client.ConnectAsync(uri, CancellationToken.None);
        return client;
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task SyncHook_AcceptsByQueryHeaderAndCookie_StateReachesHandlers(string reactor)
    {
        using var server = Start(reactor, r => new(CheckToken(r)));

        using var byQuery = await Connect(server.Url($"/room?x=1&token={Token}&name=Ann%20Lee"));
        Assert.Equal("hello Ann Lee", await ReceiveText(byQuery));
        await byQuery.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("Ann Lee: hi", await ReceiveText(byQuery));

        using var byHeader = await Connect(server.Url("/room?name=bob"), o => o.SetRequestHeader("Authorization", "Bearer " + Token));
        Assert.Equal("hello bob", await ReceiveText(byHeader));

        using var byCookie = await Connect(server.Url("/room"), o =>
        {
            o.Cookies = new CookieContainer();
            o.Cookies.Add(server.Url("/"), new Cookie("theme", "dark"));
            o.Cookies.Add(server.Url("/"), new Cookie("session", Token));
        });
        Assert.Equal("hello anonymous", await ReceiveText(byCookie));

        using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        raw.SendText(RawWebSocket.Request($"/room?token={Token}&name=cy"));
        var head = raw.ReadHttpHead();
        Assert.StartsWith("HTTP/1.1 101 ", head);
        Assert.Contains("\r\nX-Hook: accepted\r\n", head);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task SyncHook_RefusalCarriesStatusHeadersAndBody_AndClosesTheSocket(string reactor)
    {
        using var server = Start(reactor, r => new(CheckToken(r)));
        using var healthy = await Connect(server.Url("/echo"));

        foreach (var extra in new[] { "", "Authorization: Bearer wrong\r\n", "Cookie: session=wrong; other=s3cret\r\n" })
        {
            using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
            raw.SendText(RawWebSocket.Request("/room?token=nope", extra));
            var head = raw.ReadHttpHead();
            Assert.StartsWith("HTTP/1.1 401 Unauthorized\r\n", head);
            Assert.Contains("\r\nConnection: close\r\n", head);
            Assert.Contains("\r\nWWW-Authenticate: Bearer\r\n", head);
            Assert.Contains("\r\nContent-Length: 14\r\n", head);
            Assert.True(raw.ReadsEndOfStream());
        }

        var ex = await Assert.ThrowsAsync<WebSocketException>(() => Connect(server.Url("/room")));
        Assert.Contains("401", ex.Message);

        await healthy.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var buffer = new byte[64];
        var result = await healthy.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("still here", Encoding.ASCII.GetString(buffer, 0, result.Count));
        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 1));
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task Hook_ChoosesAnOfferedSubProtocol_ElseFailsWith500_AndAFaultRefusesWith500(string reactor)
    {
        using var server = Start(reactor, r => r.GetQueryValue("p") switch
        {
            "throw" => throw new InvalidOperationException("hook failed"),
            "fault" => ValueTask.FromException<WebSocketUpgradeDecision>(new InvalidOperationException("hook failed")),
            var p => new(WebSocketUpgradeDecision.Accept("p", subProtocol: p)),
        });

        using var chosen = await Connect(server.Url("/room?p=chat.v2"), o => { o.AddSubProtocol("chat.v1"); o.AddSubProtocol("chat.v2"); });
        Assert.Equal("chat.v2", chosen.SubProtocol);
        using var endpointChoice = await Connect(server.Url("/room"), o => { o.AddSubProtocol("x"); o.AddSubProtocol("chat.v1"); });
        Assert.Equal("chat.v1", endpointChoice.SubProtocol);

        foreach (var path in new[] { "/room?p=notoffered", "/room?p=throw", "/room?p=fault" })
        {
            using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
            raw.SendText(RawWebSocket.Request(path, "Sec-WebSocket-Protocol: chat.v1\r\n"));
            Assert.StartsWith("HTTP/1.1 500 ", raw.ReadHttpHead());
            Assert.True(raw.ReadsEndOfStream());
        }
    }

    public static TheoryData<string, bool> LoopsSyncAndAsync()
    {
        var data = new TheoryData<string, bool>();
        foreach (var loop in TestServers.Names)
        {
            data.Add(loop, false);
            data.Add(loop, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LoopsSyncAndAsync))]
    public async Task Hook_WithPermessageDeflate_TheAcceptCarriesBothAndMessagesEchoCompressed(string reactor, bool asynchronous)
    {
        var options = TestServers.OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        using var server = new WebSocketServer(options);
        server.Map("/echo", new Echo.EchoEndpoint(), new WebSocketEndpointOptions
        {
            Compression = WebSocketCompression.Shared,
            OnUpgrade = request =>
            {
                var decision = request.GetQueryValue("token") == Token
                    ? WebSocketUpgradeDecision.Accept().WithHeader("X-Hook", "accepted")
                    : WebSocketUpgradeDecision.Refuse(401);
                // Asynchronous: the decision comes from another thread, after the hook returned.
                return asynchronous ? new(Task.Run(async () => { await Task.Yield(); return decision; })) : new(decision);
            },
        });
        server.Start();

        using var client = await Connect(server.Url($"/echo?token={Token}"), o =>
        {
            o.CollectHttpResponseDetails = true;
            o.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientMaxWindowBits = 15, ServerMaxWindowBits = 15 };
        });
        Assert.Equal("accepted", client.HttpResponseHeaders?["X-Hook"]?.Single());
        Assert.StartsWith("permessage-deflate", client.HttpResponseHeaders?["Sec-WebSocket-Extensions"]?.Single());
        for (int i = 0; i < 4; i++)
        {
            byte[] message = Deflate.JsonLike.Message(16 * 1024, i);
            Assert.Equal(message, await EchoInteropTests.EchoAsync(client, message, WebSocketMessageType.Text));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task NpmWs_IsRefusedAndAccepted_ByQueryHeaderAndCookie(string reactor)
    {
        using var server = Start(reactor, r => new(CheckToken(r)));
        string output = await TlsInteropTests.RunPeerAsync("node", ["hook-client.mjs", $"ws://{server.LocalEndPoint}"]);
        Assert.Contains("ok accepted with a session cookie", output);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task PythonWebsockets_WithExtraHeaders_IsRefusedAndAccepted(string reactor)
    {
        using var server = Start(reactor, r => new(CheckToken(r)));
        string output = await TlsInteropTests.RunPeerAsync(TlsInteropTests.DebianPython, ["hook_client.py", $"ws://{server.LocalEndPoint}"]);
        Assert.Contains("ok accepted with a session cookie", output);
    }

    /// <summary>Sets the cookie "session" to its ?cookie= (when given), then joins the room as ?name= and answers the
    /// greeting (only it) with "got GREETING".</summary>
    private const string CookiePage = """
        <!doctype html><meta charset="utf-8"><title>cookie</title>
        <script>
        const p = new URLSearchParams(location.search);
        if (p.get('cookie')) document.cookie = 'session=' + p.get('cookie') + '; path=/; SameSite=Strict';
        const ws = new WebSocket('ws://' + location.host + '/room?name=' + encodeURIComponent(p.get('name')));
        ws.addEventListener('message', (e) => ws.send('got ' + e.data), { once: true });
        </script>
        """;

    [Fact]
    public async Task Chromium_WithTheCookieItsPageSet_IsAccepted_AndWithoutItRefused()
    {
        var heard = Channel.CreateUnbounded<string>();
        var decisions = Channel.CreateUnbounded<string>();
        using var server = Start(TestServers.Names[0], r =>
        {
            var decision = CheckToken(r);
            decisions.Writer.TryWrite($"{decision.StatusCode} {r.GetQueryValue("name")}");
            return new(decision);
        }, heard: heard, page: CookiePage);

        using (HeadlessChromium.Open($"http://{server.LocalEndPoint}/?cookie={Token}&name=chromium"))
        {
            Assert.Equal("101 chromium", await decisions.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal("chromium said got hello chromium", await heard.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        }

        using (HeadlessChromium.Open($"http://{server.LocalEndPoint}/?name=nocookie"))
            Assert.Equal("401 nocookie", await decisions.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(heard.Reader.TryRead(out var more), more);
    }

    /// <summary>A hook that waits for the test's gate, then 200 ms more; it tells the test each time it is entered.</summary>
    private sealed class GatedHook
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _entered;
        private int _waitFor = int.MaxValue;
        private readonly TaskCompletionSource _allEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered(int count)
        {
            Volatile.Write(ref _waitFor, count);
            if (Volatile.Read(ref _entered) >= count)
                _allEntered.TrySetResult();
            return _allEntered.Task;
        }

        public void Open() => _gate.TrySetResult();

        public ValueTask<WebSocketUpgradeDecision> Hook(WebSocketUpgradeRequest request)
        {
            string name = request.GetQueryValue("name") ?? "?";
            if (Interlocked.Increment(ref _entered) >= Volatile.Read(ref _waitFor))
                _allEntered.TrySetResult();
            return Decide(name);
        }

        private async ValueTask<WebSocketUpgradeDecision> Decide(string name)
        {
            await _gate.Task;
            await Task.Delay(200);
            return WebSocketUpgradeDecision.Accept(name);
        }
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task AsyncHook_CompletesLater_While1000OtherConnectionsKeepEchoing(string reactor)
    {
        var gated = new GatedHook();
        using var server = Start(reactor, gated.Hook);

        var others = new ClientWebSocket[1000];
        for (int i = 0; i < others.Length; i += 100)
        {
            var batch = Enumerable.Range(i, 100).Select(async j => others[j] = await Connect(server.Url("/echo")));
            await Task.WhenAll(batch);
        }

        var slow = Connect(server.Url("/room?name=late"));
        await gated.Entered(1).WaitAsync(TimeSpan.FromSeconds(30));
        // The loop counts the handshake as pending right after its hook returns.
        Assert.True(SocketTestExtensions.WaitUntil(() => server.PendingUpgrades == 1));

        for (int round = 0; round < 3; round++)
        {
            await Task.WhenAll(others.Select(async (c, i) =>
            {
                var message = Encoding.ASCII.GetBytes($"m{round}-{i}");
                Assert.Equal(message, await EchoInteropTests.EchoAsync(c, message, WebSocketMessageType.Binary));
            }));
        }
        Assert.False(slow.IsCompleted);

        gated.Open();
        using var late = await slow.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("hello late", await ReceiveText(late));
        Assert.Equal(0, server.PendingUpgrades);
        foreach (var c in others)
            c.Dispose();
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task ClientsLeavingWhilePending_FreeTheirPlaces_AndTheLateDecisionsDoNothing(string reactor)
    {
        var gated = new GatedHook();
        using var server = Start(reactor, gated.Hook, maxConnections: 20);

        var leaving = Enumerable.Range(0, 20).Select(_ => RawWebSocket.ConnectTcp(server.LocalEndPoint!)).ToArray();
        foreach (var raw in leaving)
            raw.SendText(RawWebSocket.Request("/room?name=gone"));
        await gated.Entered(20).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(SocketTestExtensions.WaitUntil(() => server.PendingUpgrades == 20), $"{server.PendingUpgrades} pending");
        foreach (var raw in leaving)
            raw.Dispose();

        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 0), $"{server.ConnectionCount} connections left");
        Assert.Equal(0, server.PendingUpgrades);

        // The endpoint's 20 places are free again, and the decisions that come now find nobody.
        gated.Open();
        var stayers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Connect(server.Url($"/room?name=s{i}"))));
        for (int i = 0; i < stayers.Length; i++)
            Assert.Equal($"hello s{i}", await ReceiveText(stayers[i]));
        Assert.Equal(20, server.ConnectionCount);
        Assert.Equal(0, server.PendingUpgrades);
        foreach (var c in stayers)
            c.Dispose();
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task PendingHandshakes_AreBounded_TimeOutWith503_AndEarlyFramesGet400(string reactor)
    {
        var gated = new GatedHook();
        using var server = Start(reactor, gated.Hook, o =>
        {
            o.MaxPendingUpgrades = 2;
            o.UpgradeTimeout = TimeSpan.FromSeconds(1);
        });

        using var first = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        first.SendText(RawWebSocket.Request("/room"));
        using var second = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        second.SendText(RawWebSocket.Request("/room"));
        await gated.Entered(2).WaitAsync(TimeSpan.FromSeconds(30));

        using var third = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        third.SendText(RawWebSocket.Request("/room"));
        Assert.StartsWith("HTTP/1.1 503 ", third.ReadHttpHead());
        Assert.True(third.ReadsEndOfStream());

        second.SendFrame(0x81, "too early"u8);
        Assert.StartsWith("HTTP/1.1 400 ", second.ReadHttpHead());
        Assert.True(second.ReadsEndOfStream());

        Assert.StartsWith("HTTP/1.1 503 ", first.ReadHttpHead());
        Assert.True(first.ReadsEndOfStream());
        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 0));
        Assert.Equal(0, server.PendingUpgrades);
        gated.Open();

        using var echo = await Connect(server.Url("/echo"));
        Assert.Equal(WebSocketState.Open, echo.State);
    }
}

internal static class AsciiTestExtensions
{
    public static byte[] ToAscii(this string text) => Encoding.ASCII.GetBytes(text);
}
