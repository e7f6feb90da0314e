using WsGen.Tests.Reactor;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>Bad input on a TLS listener, on every loop: plain HTTP, a garbage or truncated ClientHello, a stalled
/// handshake, an alert or a reset in the middle of the stream, a flood of handshakes over the cap. The offending
/// connection is closed (with an alert where the TLS engine writes one) within the handshake timeout, and a
/// connection opened before it keeps echoing, its data intact.</summary>
public sealed class TlsHostileInputTests
{
    /// <summary>The handshake timeout of the tests that wait for it; the others keep the default (10 s), so that a
    /// loaded machine does not time out their good handshakes.</summary>
    private static readonly TimeSpan ShortHandshakeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The short handshake timeout, plus the loop's one-second tick, plus slack for a loaded machine.</summary>
    private static readonly TimeSpan ClosedWithin = TimeSpan.FromSeconds(10);

    public static TheoryData<string> Loops => TestServers.Loops;

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task PlainHttpToTheTlsPort_IsClosed(string reactor)
    {
        using var server = Start(reactor);
        using var good = await TlsInteropTests.ConnectAsync(server);
        using var bad = Connect(server);
        bad.Send(Encoding.ASCII.GetBytes(RawWebSocket.Request()));
        var (closed, answer) = ReadUntilClosed(bad);
        Assert.True(closed, "the connection stayed open");
        Assert.True(answer.Length == 0 || answer[0] == AlertRecord, "the answer is neither nothing nor a TLS alert");
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task GarbageClientHello_IsClosedWithAnAlert(string reactor)
    {
        using var server = Start(reactor);
        using var good = await TlsInteropTests.ConnectAsync(server);
        using var bad = Connect(server);
        // A handshake record holding a ClientHello whose body is noise.
        var body = RandomNumberGenerator.GetBytes(200);
        byte[] record = [0x16, 0x03, 0x01, 0x00, 204, 0x01, 0x00, 0x00, 200, .. body];
        bad.Send(record);
        var (closed, answer) = ReadUntilClosed(bad);
        Assert.True(closed, "the connection stayed open");
        Assert.True(answer.Length > 0 && answer[0] == AlertRecord, $"no alert came back ({answer.Length} bytes)");
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task TruncatedClientHello_IsClosedAtTheHandshakeTimeout(string reactor)
    {
        using var server = Start(reactor, shortTimeout: true);
        using var good = await TlsInteropTests.ConnectAsync(server);
        using var bad = Connect(server);
        // The record announces 512 bytes; 20 come, then nothing.
        byte[] start = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, .. RandomNumberGenerator.GetBytes(9)];
        bad.Send(start);
        var (closed, _) = ReadUntilClosed(bad);
        Assert.True(closed, "the stalled handshake was not closed");
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task SilentConnection_IsClosedAtTheHandshakeTimeout(string reactor)
    {
        using var server = Start(reactor, shortTimeout: true);
        using var good = await TlsInteropTests.ConnectAsync(server);
        using var bad = Connect(server);
        var (closed, _) = ReadUntilClosed(bad);
        Assert.True(closed, "the silent connection was not closed");
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task HandshakeDoneButNoUpgradeRequest_IsClosedAtTheHandshakeTimeout(string reactor)
    {
        using var server = Start(reactor, shortTimeout: true);
        using var good = await TlsInteropTests.ConnectAsync(server);
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.TlsLocalEndPoint!);
        using var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => TestCertificates.ChainsToCa(c));
        await ssl.AuthenticateAsClientAsync("localhost");
        var buffer = new byte[1024];
        using var cts = new CancellationTokenSource(ClosedWithin);
        // The server answers 408 over TLS and closes.
        var received = new MemoryStream();
        while (true)
        {
            int n;
            try
            {
                n = await ssl.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                break;
            }
            if (n == 0)
                break;
            received.Write(buffer, 0, n);
        }
        Assert.StartsWith("HTTP/1.1 408 ", Encoding.ASCII.GetString(received.ToArray()));
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task AlertMidStream_ClosesThatConnection(string reactor)
    {
        using var server = Start(reactor);
        using var good = await TlsInteropTests.ConnectAsync(server);
        var (tcp, ssl) = await OpenUpgradedAsync(server);
        using (tcp)
        using (ssl)
        {
            // A fatal alert in the clear, after the handshake: not a record the session can decrypt.
            tcp.Client.Send([AlertRecord, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
            var (closed, _) = ReadUntilClosed(tcp.Client);
            Assert.True(closed, "the connection stayed open");
        }
        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 1, ClosedWithin), $"{server.ConnectionCount} connections");
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task ResetMidRecord_DropsThatConnection(string reactor)
    {
        using var server = Start(reactor);
        using var good = await TlsInteropTests.ConnectAsync(server);
        var (tcp, ssl) = await OpenUpgradedAsync(server);
        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 2, ClosedWithin));
        // Half an application data record, then a reset.
        tcp.Client.Send([0x17, 0x03, 0x03, 0x40, 0x00, .. RandomNumberGenerator.GetBytes(1000)]);
        tcp.Client.LingerState = new LingerOption(true, 0);
        tcp.Client.Close();
        ssl.Dispose();
        tcp.Dispose();
        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 1, ClosedWithin), $"{server.ConnectionCount} connections");
        await AssertEchoes(good);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task HandshakesOverTheCap_AreClosed_UntilOthersEnd(string reactor)
    {
        using var server = Start(reactor, tls => tls.MaxConcurrentHandshakes = 2);
        using var good = await TlsInteropTests.ConnectAsync(server);
        // Two handshakes stall after part of a ClientHello: the cap is reached.
        var stalled = Enumerable.Range(0, 2).Select(_ => Connect(server)).ToList();
        foreach (var socket in stalled)
            socket.Send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
        // A third is closed at its first bytes (a real client fails its handshake) ...
        await Assert.ThrowsAnyAsync<Exception>(async () => (await TlsInteropTests.ConnectAsync(server)).Dispose());
        // ... until the stalled ones are gone.
        foreach (var socket in stalled)
            socket.Dispose();
        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 1, ClosedWithin), $"{server.ConnectionCount} connections");
        using var later = await TlsInteropTests.ConnectAsync(server);
        await AssertEchoes(later);
        await AssertEchoes(good);
    }

    private const byte AlertRecord = 0x15;

    private static WebSocketServer Start(string reactor, Action<WebSocketTlsOptions>? tls = null, bool shortTimeout = false) =>
        TlsInteropTests.StartTls(reactor, o =>
        {
            if (shortTimeout)
                o.HandshakeTimeout = ShortHandshakeTimeout;
            tls?.Invoke(o.Tls!);
        });

    private static Socket Connect(WebSocketServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(server.TlsLocalEndPoint!);
        return socket;
    }

    /// <summary>Reads until the server closes (end of stream or reset); false when it has not within
    /// <see cref="ClosedWithin"/>. Returns what came before.</summary>
    private static (bool Closed, byte[] Received) ReadUntilClosed(Socket socket)
    {
        socket.ReceiveTimeout = (int)ClosedWithin.TotalMilliseconds;
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            int n;
            try
            {
                n = socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
            {
                return (false, received.ToArray());
            }
            catch (SocketException)
            {
                return (true, received.ToArray());
            }
            if (n == 0)
                return (true, received.ToArray());
            received.Write(buffer, 0, n);
        }
    }

    /// <summary>A TLS connection with a completed WebSocket upgrade, driven by hand.</summary>
    private static async Task<(TcpClient, SslStream)> OpenUpgradedAsync(WebSocketServer server)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.TlsLocalEndPoint!);
        var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => TestCertificates.ChainsToCa(c));
        await ssl.AuthenticateAsClientAsync("localhost");
        await ssl.WriteAsync(Encoding.ASCII.GetBytes(RawWebSocket.Request()));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await ssl.ReadAsync(one));
            head.Append((char)one[0]);
        }
        Assert.StartsWith("HTTP/1.1 101 ", head.ToString());
        return (tcp, ssl);
    }

    private static async Task AssertEchoes(ClientWebSocket client)
    {
        var payload = RandomNumberGenerator.GetBytes(70_000);
        Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Binary));
    }
}
