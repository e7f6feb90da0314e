using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsGen.Tests.Reactor;

namespace WsGen.Tests.Server;

/// <summary>
/// <see cref="WebSocketConnection.RemoteEndPoint"/> and <see cref="WebSocketUpgradeRequest.RemoteEndPoint"/> on every
/// loop: clients bound to different loopback addresses (and an IPv6 one) see their own address and port reported by
/// the hook and by the open connection, also while many connections come and go through the same slots; and the
/// local endpoints, ws:// and wss:// side by side.
/// </summary>
public sealed class RemoteEndPointTests
{
    public static TheoryData<string> Loops => TestServers.Loops;

    /// <summary>Sends "HOOK|OPEN" at open: the address the upgrade hook saw and the one the open connection reports.</summary>
    private sealed class ReportAddress : IWebSocketEndpoint
    {
        public void OnOpen(WebSocketConnection conn) => conn.SendText($"{conn.UserState}|{conn.RemoteEndPoint}");

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.SendText($"{conn.RemoteEndPoint}");

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }

    private static WebSocketServer Start(string reactor, IPAddress listen)
    {
        var server = new WebSocketServer(TestServers.OptionsFor(reactor, new IPEndPoint(listen, 0)));
        server.Map("/", new ReportAddress(), new WebSocketEndpointOptions
        {
            OnUpgrade = static r => new(WebSocketUpgradeDecision.Accept(state: r.RemoteEndPoint?.ToString() ?? "none")),
        });
        server.Start();
        return server;
    }

    private static string ReadText(RawWebSocket raw)
    {
        var frame = raw.ReadFrame();
        Assert.NotNull(frame);
        Assert.Equal(0x81, frame.Value.First);
        return Encoding.UTF8.GetString(frame.Value.Payload);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void EachConnection_SeesItsOwnAddressAndPort_FromTheHookAndWhileOpen(string reactor)
    {
        using var server = Start(reactor, IPAddress.Loopback);
        var clients = new List<RawWebSocket>();
        try
        {
            // Several rounds through the same slots: a slot's address is that of its current connection.
            for (int round = 0; round < 3; round++)
            {
                foreach (var from in new[] { "127.0.0.2", "127.0.0.3", "127.0.0.1" })
                {
                    var raw = RawWebSocket.Open(server.LocalEndPoint!, "/", IPAddress.Parse(from));
                    clients.Add(raw);
                    string expected = raw.LocalEndPoint.ToString();
                    Assert.StartsWith(from + ":", expected);
                    Assert.Equal($"{expected}|{expected}", ReadText(raw));
                }

                // Messages later in the connection's life still see its address.
                foreach (var raw in clients)
                {
                    raw.SendFrame(0x81, "?"u8);
                    Assert.Equal(raw.LocalEndPoint.ToString(), ReadText(raw));
                }

                foreach (var raw in clients)
                    raw.Dispose();
                clients.Clear();
                Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 0));
            }
        }
        finally
        {
            foreach (var raw in clients)
                raw.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void Ipv6Client_SeesItsAddress(string reactor)
    {
        if (!Socket.OSSupportsIPv6)
            return;
        using var server = Start(reactor, IPAddress.IPv6Loopback);
        using var raw = RawWebSocket.Open(server.LocalEndPoint!);
        string expected = raw.LocalEndPoint.ToString();
        Assert.StartsWith("[::1]:", expected);
        Assert.Equal($"{expected}|{expected}", ReadText(raw));
    }

    /// <summary>Sends "HOOK|OPEN" at open: the local endpoint the upgrade hook saw and the one the open connection reports.</summary>
    private sealed class ReportLocal : IWebSocketEndpoint
    {
        public void OnOpen(WebSocketConnection conn) => conn.SendText($"{conn.UserState}|{conn.LocalEndPoint}");

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task LocalEndPoint_IsThePortTheClientCameTo_WsOrWss(string reactor)
    {
        var options = TestServers.OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        options.Tls = TestCertificates.ServerOptions();
        options.TlsEndPoint = new IPEndPoint(IPAddress.Loopback, 0);
        using var server = new WebSocketServer(options);
        server.Map("/", new ReportLocal(), new WebSocketEndpointOptions
        {
            OnUpgrade = static r => new(WebSocketUpgradeDecision.Accept(state: r.LocalEndPoint?.ToString() ?? "none")),
        });
        server.Start();

        using var plain = new ClientWebSocket();
        await plain.ConnectAsync(new Uri($"ws://{server.LocalEndPoint}/"), CancellationToken.None);
        using var secure = await TlsInteropTests.ConnectAsync(server);
        Assert.Equal($"{server.LocalEndPoint}|{server.LocalEndPoint}", await ReceiveTextAsync(plain));
        Assert.Equal($"{server.TlsLocalEndPoint}|{server.TlsLocalEndPoint}", await ReceiveTextAsync(secure));
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket client)
    {
        var buffer = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var result = await client.ReceiveAsync(buffer, cts.Token);
        Assert.True(result.EndOfMessage);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
