using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>
/// Each hostile input gets its close code (sent before TCP closes, with no reset) or its HTTP status, while a
/// healthy connection on the same server keeps echoing before and after.
/// </summary>
public sealed class HostileInputTests
{
    private const int SmallMax = 64 * 1024;

    public static TheoryData<string, string> FrameCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var reactor in TestServers.Names.Append(TestServers.Generated))
            foreach (var name in Frames.Keys)
                if (reactor != TestServers.Generated || !SizeCases.Contains(name))
                    data.Add(reactor, name);
        return data;
    }

    /// <summary>The cases that need the small maximum message size, which only the hand-wired endpoint can be given.</summary>
    private static readonly HashSet<string> SizeCases = ["frame over the maximum", "fragments adding up over the maximum"];

    /// <summary>Hostile frames after a valid handshake, and the close code each must get.</summary>
    private static readonly Dictionary<string, (int Code, Action<RawWebSocket> Send)> Frames = new()
    {
        ["rsv1 without extension"] = (1002, ws => ws.SendFrame(0xC1, "hi"u8)),
        ["rsv3 on binary"] = (1002, ws => ws.SendFrame(0x92, "hi"u8)),
        ["reserved data opcode 3"] = (1002, ws => ws.SendFrame(0x83, []) ),
        ["reserved control opcode 0xB"] = (1002, ws => ws.SendFrame(0x8B, [])),
        ["ping over 125 bytes"] = (1002, ws => ws.SendFrame(0x89, new byte[126])),
        ["fragmented ping"] = (1002, ws => ws.SendFrame(0x09, "x"u8)),
        ["continuation with nothing to continue"] = (1002, ws => ws.SendFrame(0x80, "x"u8)),
        ["new data frame inside a fragmented message"] = (1002, ws => { ws.SendFrame(0x01, "a"u8); ws.SendFrame(0x81, "b"u8); }),
        ["unmasked client frame"] = (1002, ws => ws.SendFrame(0x81, "hello"u8, masked: false)),
        ["64-bit length with top bit set"] = (1002, ws => ws.Send([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4])),
        ["invalid UTF-8 in text"] = (1007, ws => ws.SendFrame(0x81, [0xC0, 0xAF])),
        ["surrogate in text"] = (1007, ws => ws.SendFrame(0x81, [0x61, 0xED, 0xA0, 0x80])),
        ["text split inside a code point at the end"] = (1007, ws => ws.SendFrame(0x81, [0x61, 0xE2, 0x82])),
        ["invalid UTF-8 across fragments"] = (1007, ws => { ws.SendFrame(0x01, [0xE2, 0x82]); ws.SendFrame(0x80, [0x28]); }),
        ["close with a 1-byte body"] = (1002, ws => ws.SendFrame(0x88, [0x03])),
        ["close with code 1005"] = (1002, ws => ws.SendFrame(0x88, [0x03, 0xED])),
        ["close with code 999"] = (1002, ws => ws.SendFrame(0x88, [0x03, 0xE7])),
        ["close with code 1016"] = (1002, ws => ws.SendFrame(0x88, [0x03, 0xF8])),
        ["close reason not UTF-8"] = (1007, ws => ws.SendFrame(0x88, [0x03, 0xE8, 0xFF])),
        ["frame over the maximum"] = (1009, ws => ws.SendFrame(0x82, new byte[SmallMax + 1])),
        ["fragments adding up over the maximum"] = (1009, ws => { ws.SendFrame(0x02, new byte[SmallMax / 2]); ws.SendFrame(0x00, new byte[SmallMax / 2]); ws.SendFrame(0x80, new byte[10]); }),
        ["header claiming 1 GiB"] = (1009, ws => ws.Send([0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4])),
    };

    [Theory]
    [MemberData(nameof(FrameCases))]
    public async Task HostileFrame_GetsItsCloseCode_WhileAHealthyConnectionKeepsEchoing(string reactor, string name)
    {
        var small = reactor == TestServers.Generated ? null : new WebSocketEndpointOptions { MaxMessageSize = SmallMax };
        using var server = TestServers.StartEcho(reactor, endpoint: small);
        using var healthy = await EchoInteropTests.ConnectAsync(server);
        await AssertEchoes(healthy);

        using var raw = RawWebSocket.Open(server.LocalEndPoint!);
        var (code, send) = Frames[name];
        send(raw);
        Assert.Equal(code, raw.ReadCloseCode());
        Assert.True(raw.ReadsEndOfStream(), "the server should close TCP after its close frame");

        await AssertEchoes(healthy);
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task InvalidUtf8_FailsBeforeTheRestOfALargeFrameArrives(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        using var raw = RawWebSocket.Open(server.LocalEndPoint!);
        // Header of a 1 MiB masked text frame, then only 100 bytes whose 50th is invalid; the rest never comes.
        var header = new byte[] { 0x81, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0 };   // mask key 0: bytes go as they are
        var body = Enumerable.Repeat((byte)'a', 100).ToArray();
        body[50] = 0xFF;
        raw.Send(header);
        raw.Send(body);
        Assert.Equal(1007, raw.ReadCloseCode());
        await Task.CompletedTask;
    }

    public static TheoryData<string> Reactors => TestServers.Reactors;

    public static TheoryData<string> Loops => TestServers.Loops;

    public static TheoryData<string, string, int> HandshakeCases()
    {
        var cases = new (string Name, string Request, int Status)[]
        {
            ("version 8", RawWebSocket.Request(version: "8"), 426),
            ("no version", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
            ("no key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
            ("short key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
            ("no upgrade", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
            ("no host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
            ("HTTP/1.0", RawWebSocket.Request().Replace("HTTP/1.1", "HTTP/1.0"), 400),
            ("bare LF", RawWebSocket.Request().Replace("\r\n", "\n"), 400),
            ("huge header", RawWebSocket.Request(extraHeaders: $"X-Big: {new string('a', 9000)}\r\n"), 431),
            ("too many headers", RawWebSocket.Request(extraHeaders: string.Concat(Enumerable.Range(0, 70).Select(i => $"X-{i}: v\r\n"))), 431),
        };
        var data = new TheoryData<string, string, int>();
        foreach (var reactor in TestServers.Names.Append(TestServers.Generated))
            foreach (var c in cases)
                data.Add(reactor, c.Request, c.Status);
        return data;
    }

    [Theory]
    [MemberData(nameof(HandshakeCases))]
    public async Task BadHandshake_GetsItsStatusAndConnectionClose(string reactor, string request, int status)
    {
        using var server = TestServers.StartEcho(reactor);
        using var healthy = await EchoInteropTests.ConnectAsync(server);
        using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        raw.SendText(request);
        var head = raw.ReadHttpHead();
        Assert.StartsWith($"HTTP/1.1 {status} ", head);
        Assert.Contains("Connection: close", head, StringComparison.OrdinalIgnoreCase);
        if (status == 426)
            Assert.Contains("Sec-WebSocket-Version: 13", head);
        Assert.True(raw.ReadsEndOfStream());
        await AssertEchoes(healthy);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void Routing_OriginCheck_AndEndpointCapacity(string reactor)
    {
        var options = TestServers.OptionsFor(reactor, new(System.Net.IPAddress.Loopback, 0));
        using var server = new WebSocketServer(options);
        server.Map("/chat", new Echo.EchoEndpoint(), new WebSocketEndpointOptions { MaxConnections = 2, CheckOrigin = o => o != "http://evil.example" });
        server.Start();

        using var unknown = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        unknown.SendText(RawWebSocket.Request("/nowhere"));
        Assert.StartsWith("HTTP/1.1 404 ", unknown.ReadHttpHead());

        using var evil = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        evil.SendText(RawWebSocket.Request("/chat", "Origin: http://evil.example\r\n"));
        Assert.StartsWith("HTTP/1.1 403 ", evil.ReadHttpHead());

        using var first = RawWebSocket.Open(server.LocalEndPoint!, "/chat");
        using var second = RawWebSocket.Open(server.LocalEndPoint!, "/chat");
        using var third = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        third.SendText(RawWebSocket.Request("/chat"));
        Assert.StartsWith("HTTP/1.1 503 ", third.ReadHttpHead());
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public void Slowloris_GetsTimedOutWith408(string reactor)
    {
        using var server = TestServers.StartEcho(reactor, o => o.HandshakeTimeout = TimeSpan.FromSeconds(1));
        using var slow = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        slow.SendText("GET / HTTP/1.1\r\nHost: x\r\n");
        Assert.StartsWith("HTTP/1.1 408 ", slow.ReadHttpHead());
        Assert.True(slow.ReadsEndOfStream());
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void SilentPeer_IsPingedThenClosedWith1001(string reactor)
    {
        using var server = TestServers.StartEcho(reactor, o => o.IdleTimeout = TimeSpan.FromSeconds(1));
        using var raw = RawWebSocket.Open(server.LocalEndPoint!);
        var ping = raw.ReadFrame();
        Assert.NotNull(ping);
        Assert.Equal(0x89, ping.Value.First);
        Assert.Equal(1001, raw.ReadCloseCode());
    }

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task Shutdown_ClosesEveryConnectionWith1001(string reactor)
    {
        var server = TestServers.StartEcho(reactor);
        using var client = await EchoInteropTests.ConnectAsync(server);
        using var raw = RawWebSocket.Open(server.LocalEndPoint!);
        var receive = client.ReceiveAsync(new byte[16], CancellationToken.None);
        var stop = Task.Run(server.Stop);
        Assert.Equal(1001, raw.ReadCloseCode());
        raw.SendFrame(0x88, [0x03, 0xE9]);   // answer the close so the server can finish at once
        var result = await receive;
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await stop;
        server.Dispose();
    }

    private static async Task AssertEchoes(ClientWebSocket healthy)
    {
        var payload = RandomNumberGenerator.GetBytes(1000);
        Assert.Equal(payload, await EchoInteropTests.EchoAsync(healthy, payload, WebSocketMessageType.Binary));
    }
}
