using System.Text;

namespace WsGen.Tests.Server;

/// <summary>The server's WebSocket layer over the fake reactor: handshake paths, timeouts on a fake clock,
/// the close handshake from both sides, shutdown and endpoint failures.</summary>
public sealed class FakeServerTests
{
    [Fact]
    public void RequestAndFirstFrameInOneWrite_AreBothHandled()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Connect();
        var frame = new byte[64];
        int n = WsGen.Protocol.FrameWriter.WriteFrame(frame, WebSocketOpcode.Text, true, "first"u8, 0x01020304u);
        client.SendBytes([.. Encoding.ASCII.GetBytes(RawWebSocket.Request()), .. frame.AsSpan(0, n)]);
        Assert.StartsWith("HTTP/1.1 101 ", client.ReadHttpHead());
        var echoed = Assert.Single(client.ReadFrames());
        Assert.Equal("first", Encoding.UTF8.GetString(echoed.Payload));
    }

    [Fact]
    public void RequestArrivingByteByByte_IsAssembled_AndFramesBehindItAreKept()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Connect();
        var request = Encoding.ASCII.GetBytes(RawWebSocket.Request());
        foreach (var b in request[..^1])
            client.SendBytes([b]);
        Assert.Empty(endpoint.Opened);
        var frame = new byte[64];
        int n = WsGen.Protocol.FrameWriter.WriteFrame(frame, WebSocketOpcode.Binary, true, [1, 2, 3], 0x01020304u);
        client.SendBytes([request[^1], .. frame.AsSpan(0, n)]);   // the last byte of the head and a frame together
        Assert.StartsWith("HTTP/1.1 101 ", client.ReadHttpHead());
        Assert.Single(endpoint.Opened);
        Assert.Equal([1, 2, 3], Assert.Single(client.ReadFrames()).Payload);
    }

    [Fact]
    public void HandshakeTimeout_Sends408AndCloses_OnlyAfterTheDeadline()
    {
        var server = new FakeServer(new RecordingEndpoint(), new WebSocketServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
        var client = server.Connect();
        client.SendAscii("GET / HTTP/1.1\r\nHost: x\r\n");
        server.Reactor.AdvanceTime(4999);
        Assert.False(client.ServerClosed);
        server.Reactor.AdvanceTime(1);
        Assert.StartsWith("HTTP/1.1 408 ", client.ReadHttpHead());
        Assert.True(client.ServerClosed);
        Assert.Equal(0, server.Reactor.ConnectionCount);
    }

    [Fact]
    public void IdleConnection_IsPinged_ThenClosedWith1001_ButAPongKeepsItAlive()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, new WebSocketServerOptions { IdleTimeout = TimeSpan.FromSeconds(10), CloseTimeout = TimeSpan.FromSeconds(2) });
        var client = server.Open();

        server.Reactor.AdvanceTime(10_000);
        Assert.Equal(WebSocketOpcode.Ping, Assert.Single(client.ReadFrames()).Opcode);
        client.SendFrame(WebSocketOpcode.Pong, []);
        server.Reactor.AdvanceTime(9_000);
        Assert.Empty(client.ReadFrames());                           // the pong counted as activity

        server.Reactor.AdvanceTime(1_000);
        Assert.Equal(WebSocketOpcode.Ping, Assert.Single(client.ReadFrames()).Opcode);
        server.Reactor.AdvanceTime(10_000);                          // no answer this time
        var close = Assert.Single(client.ReadFrames());
        Assert.Equal(WebSocketOpcode.Close, close.Opcode);
        Assert.Equal(1001, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.False(client.ServerClosed);                           // waiting for the peer's close frame
        server.Reactor.AdvanceTime(2_000);
        Assert.True(client.ServerClosed);
        Assert.Equal(WebSocketCloseCode.GoingAway, Assert.Single(endpoint.Closed).Code);
    }

    [Fact]
    public void ServerInitiatedClose_WaitsForThePeersCloseFrame_ThenReportsItsOwnCode()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();
        server.Reactor.Post(_ => endpoint.Opened[0].Close(WebSocketCloseCode.PolicyViolation, "rules"), null);
        var close = Assert.Single(client.ReadFrames());
        Assert.Equal(WebSocketOpcode.Close, close.Opcode);
        Assert.Equal("rules", Encoding.UTF8.GetString(close.Payload, 2, close.Payload.Length - 2));
        Assert.False(endpoint.Opened[0].IsOpen);
        Assert.Empty(endpoint.Closed);

        client.SendFrame(WebSocketOpcode.Close, [0x03, 0xE8]);
        Assert.True(client.ServerClosed);
        Assert.Equal(new CloseStatus(WebSocketCloseCode.PolicyViolation, "rules"), Assert.Single(endpoint.Closed));
    }

    [Fact]
    public void PeerClose_IsEchoedWithItsCode_AndReported()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();
        client.SendFrame(WebSocketOpcode.Close, [0x0F, 0xA1, (byte)'o', (byte)'k']);   // 4001 "ok"
        var close = Assert.Single(client.ReadFrames());
        Assert.Equal(4001, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.True(client.ServerClosed);
        Assert.Equal(new CloseStatus((WebSocketCloseCode)4001, "ok"), Assert.Single(endpoint.Closed));
    }

    [Fact]
    public void CloseWithoutBody_IsAnsweredWithoutBody_AndReportedAs1005()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();
        client.SendFrame(WebSocketOpcode.Close, []);
        var close = Assert.Single(client.ReadFrames());
        Assert.Equal(WebSocketOpcode.Close, close.Opcode);
        Assert.Equal(2, close.Payload.Length);   // the recorder writes the 1005 it was told, so an empty body shows as 1005
        Assert.Equal(1005, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.Equal(WebSocketCloseCode.NoStatusReceived, Assert.Single(endpoint.Closed).Code);
    }

    [Fact]
    public void DroppedTcp_IsReportedAs1006_Once()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();
        client.Conn.Close();
        server.Reactor.RunUntilIdle();
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, Assert.Single(endpoint.Closed).Code);
        Assert.Equal(0, server.Loop.ConnectionCount);
    }

    [Fact]
    public void EndpointThatThrows_GetsItsConnectionClosedWith1011_OthersGoOn()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var bad = server.Open();
        var good = server.Open();
        endpoint.Throw = true;
        bad.SendFrame(WebSocketOpcode.Text, "boom"u8);
        var close = Assert.Single(bad.ReadFrames());
        Assert.Equal(1011, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.True(bad.ServerClosed);

        endpoint.Throw = false;
        good.SendFrame(WebSocketOpcode.Text, "fine"u8);
        Assert.Equal("fine", Encoding.UTF8.GetString(Assert.Single(good.ReadFrames()).Payload));
    }

    [Fact]
    public void Shutdown_Sends1001ToOpenConnections_AndDropsHandshakes()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint);
        var open = server.Open();
        var half = server.Connect();
        half.SendAscii("GET / HTTP/1.1\r\n");
        server.Reactor.Shutdown();
        var close = Assert.Single(open.ReadFrames());
        Assert.Equal(1001, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.True(half.ServerClosed);
        open.SendFrame(WebSocketOpcode.Close, [0x03, 0xE9]);
        Assert.True(open.ServerClosed);
        Assert.Equal(0, server.Reactor.ConnectionCount);

        var late = server.Connect();   // refused once shutting down
        Assert.StartsWith("HTTP/1.1 503 ", late.ReadHttpHead());
    }

    [Fact]
    public async Task SendFromAnotherThread_IsHandedToTheLoop()
    {
        var endpoint = new RecordingEndpoint { Echo = false };
        var server = new FakeServer(endpoint);
        var client = server.Open();
        var conn = endpoint.Opened[0];
        // A thread of its own, so the send never runs on the thread that turns the fake loop.
        await Task.Factory.StartNew(
            () => conn.Send("from elsewhere"u8, WebSocketOpcode.Text), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.Equal("from elsewhere", Encoding.UTF8.GetString(Assert.Single(client.ReadFrames()).Payload));
    }

    [Fact]
    public void SendingInvalidUtf8AsText_Throws()
    {
        var endpoint = new RecordingEndpoint { Echo = false };
        var server = new FakeServer(endpoint);
        server.Open();
        server.Reactor.Post(_ =>
            Assert.Throws<ArgumentException>(() => endpoint.Opened[0].Send([0xFF], WebSocketOpcode.Text)), null);
        server.Reactor.RunUntilIdle();
    }
}
