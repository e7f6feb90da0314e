using WsGen.Tests.Reactor;

namespace WsGen.Tests.Transport;

public sealed class FakeReactorTests
{
    [Fact]
    public void Echoes_over_an_in_memory_pair_and_reports_the_peer_close()
    {
        var handler = new TestHandler();
        using var reactor = new FakeReactor(handler);
        var (server, client) = InMemoryConn.CreatePair();
        IReactorConn conn = reactor.Open(server);
        Assert.True(handler.Open.ContainsKey(conn));

        client.Write("hello"u8);
        reactor.RunUntilIdle();
        var buffer = new byte[16];
        Assert.Equal(5, client.Read(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);

        client.Close();
        reactor.RunUntilIdle();
        Assert.Equal(1, handler.CloseCounts[conn]);
        Assert.Equal(0, reactor.ConnectionCount);
    }

    [Fact]
    public void Writes_during_a_callback_are_corked_until_it_returns()
    {
        int seenByPeer = -1;
        InMemoryConn? client = null;
        var handler = new TestHandler
        {
            DataHook = (conn, _) =>
            {
                conn.Write("one"u8);
                conn.Write("two"u8);
                seenByPeer = client!.Available;
            },
        };
        using var reactor = new FakeReactor(handler);
        (InMemoryConn server, client) = InMemoryConn.CreatePair();
        reactor.Register(server);

        client.Write("x"u8);
        reactor.RunOnce();

        Assert.Equal(0, seenByPeer);
        var buffer = new byte[16];
        Assert.Equal(6, client.Read(buffer));
        Assert.Equal("onetwo"u8.ToArray(), buffer[..6]);
    }

    [Fact]
    public void Keeps_what_the_peer_cannot_take_pauses_reading_and_calls_OnWritable()
    {
        var handler = new TestHandler();
        int writable = 0;
        using var reactor = new FakeReactor(
            new WritableCounter(handler, () => writable++),
            FakeReactor.DefaultOptions with { ReceiveBufferSize = 256, PauseReadingThreshold = 1000 });
        var (server, client) = InMemoryConn.CreatePair(capacity: 500);
        IReactorConn conn = reactor.Open(server);

        // The peer writes 2000 bytes, reads nothing; its inbound direction takes 500.
        byte[] data = SocketTestExtensions.Pattern(2000);
        int written = 0;
        for (int turn = 0; turn < 100 && written < data.Length; turn++)
        {
            written += client.Write(data.AsSpan(written));
            reactor.RunOnce();
        }

        Assert.True(conn.WaitingBytes > reactor.PauseReadingThreshold);
        Assert.True(conn.WaitingBytes <= reactor.PauseReadingThreshold + reactor.ReceiveBufferSize);
        Assert.True(server.Available > 0, "reading should be paused");

        var received = new List<byte>();
        var buffer = new byte[300];
        for (int turn = 0; turn < 1000 && received.Count < data.Length; turn++)
        {
            int n = client.Read(buffer);
            if (n > 0)
                received.AddRange(buffer[..n]);
            if (written < data.Length)
                written += client.Write(data.AsSpan(written));
            reactor.RunOnce();
        }

        Assert.Equal(data, received.ToArray());
        Assert.Equal(0, conn.WaitingBytes);
        Assert.True(writable > 0);
    }

    [Fact]
    public void A_write_beyond_MaxBackpressure_aborts_the_connection_and_returns_0()
    {
        int result = -1;
        int afterAbort = -1;
        var handler = new TestHandler
        {
            DataHook = (conn, _) =>
            {
                result = conn.Write(new byte[3000]);
                afterAbort = conn.Write(new byte[1]);
            },
        };
        using var reactor = new FakeReactor(handler, FakeReactor.DefaultOptions with { SendBufferSize = 1000, PauseReadingThreshold = 100, MaxBackpressure = 2000 });
        var (server, client) = InMemoryConn.CreatePair(capacity: 500);
        IReactorConn conn = reactor.Open(server);

        client.Write("x"u8);
        reactor.RunOnce();

        Assert.Equal(0, result);
        Assert.Equal(0, afterAbort);
        Assert.Equal(1, handler.CloseCounts[conn]);
        Assert.True(server.IsClosed);
    }

    [Fact]
    public void Corked_bytes_beyond_MaxBackpressure_abort_the_connection_when_the_callback_returns()
    {
        int result = -1;
        var handler = new TestHandler { DataHook = (conn, _) => result = conn.Write(new byte[3000]) };
        using var reactor = new FakeReactor(handler, FakeReactor.DefaultOptions with { PauseReadingThreshold = 100, MaxBackpressure = 2000 });
        var (server, client) = InMemoryConn.CreatePair(capacity: 500);
        IReactorConn conn = reactor.Open(server);

        client.Write("x"u8);
        reactor.RunOnce();

        Assert.Equal(3000, result);
        Assert.Equal(1, handler.CloseCounts[conn]);
    }

    [Fact]
    public void Close_flushes_waiting_bytes_first()
    {
        var handler = new TestHandler
        {
            DataHook = (conn, _) =>
            {
                conn.Write(SocketTestExtensions.Pattern(1000));
                conn.Close();
            },
        };
        using var reactor = new FakeReactor(handler);
        var (server, client) = InMemoryConn.CreatePair(capacity: 300);
        IReactorConn conn = reactor.Open(server);
        client.Write("x"u8);

        var received = new List<byte>();
        var buffer = new byte[128];
        for (int turn = 0; turn < 100; turn++)
        {
            reactor.RunOnce();
            int n = client.Read(buffer);
            if (n == 0)
                break;
            if (n > 0)
                received.AddRange(buffer[..n]);
        }

        Assert.Equal(SocketTestExtensions.Pattern(1000), received.ToArray());
        Assert.Equal(1, handler.CloseCounts[conn]);
    }

    [Fact]
    public async Task Time_shutdown_and_posted_work()
    {
        var handler = new TestHandler();
        using var reactor = new FakeReactor(handler);
        var (server, client) = InMemoryConn.CreatePair();
        IReactorConn conn = reactor.Open(server);

        reactor.AdvanceTime(1500);
        Assert.Equal(1500, handler.LastTick);

        object? posted = null;
        var poster = Task.Run(() => reactor.Post(s => posted = s, "state"));
        await poster.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(posted);
        reactor.RunOnce();
        Assert.Equal("state", posted);

        reactor.Shutdown();
        reactor.Shutdown();
        Assert.Equal(1, handler.ShutdownCalls);
        reactor.RunUntilIdle();
        Assert.Equal(1, handler.CloseCounts[conn]);
        Assert.Equal(0, client.Read(new byte[1]));
    }

    private sealed class WritableCounter(TestHandler inner, Action onWritable) : IConnectionHandler
    {
        public void OnOpen(INetConn conn) => inner.OnOpen(conn);

        public void OnData(INetConn conn, Span<byte> data) => inner.OnData(conn, data);

        public void OnWritable(INetConn conn) => onWritable();

        public void OnClose(INetConn conn) => inner.OnClose(conn);

        public void OnTick(long nowMilliseconds) => inner.OnTick(nowMilliseconds);

        public void OnShutdown() => inner.OnShutdown();
    }
}
