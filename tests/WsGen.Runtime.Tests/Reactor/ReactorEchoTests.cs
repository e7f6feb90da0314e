using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

public sealed class ReactorEchoTests
{
    public static TheoryData<string, int> EchoCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string kind in ReactorHarness.KindList)
        {
            foreach (int size in new[] { 1, 100, 65_536, 1024 * 1024 + 7, 8 * 1024 * 1024 })
                data.Add(kind, size);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EchoCases))]
    public async Task Echoes_every_byte(string kind, int size)
    {
        using var harness = new ReactorHarness(kind, new TestHandler());
        using Socket client = harness.Connect();
        byte[] sent = SocketTestExtensions.Pattern(size, size);

        // The client sends everything before it reads, as far as it can: until it has sent all, or until the loop
        // holds so much for the connection that it stops reading it (for big payloads the loop must keep what
        // waits), when the sender stalls until the client reads.
        var sender = Task.Run(() => client.SendAll(sent));
        Assert.True(SocketTestExtensions.WaitUntil(() => sender.IsCompleted || harness.ReadingPaused()),
            "the sender neither finished nor filled the loop's backlog");
        byte[] received = client.ReceiveExactly(size);

        await sender.WaitAsync(ReactorHarness.Generous);
        Assert.Equal(sent, received);
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public async Task Echoes_for_200_concurrent_clients(string kind)
    {
        using var harness = new ReactorHarness(kind, new TestHandler());
        const int Clients = 200;
        const int Messages = 5;

        async Task RunClient(int id)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(harness.EndPoint);
            for (int m = 0; m < Messages; m++)
            {
                byte[] message = SocketTestExtensions.Pattern(100 + ((id * 37 + m * 101) % 4000), id * 10 + m);
                await socket.SendAsync(message);
                var received = new byte[message.Length];
                int read = 0;
                while (read < received.Length)
                {
                    int n = await socket.ReceiveAsync(received.AsMemory(read));
                    Assert.NotEqual(0, n);
                    read += n;
                }

                Assert.Equal(message, received);
            }
        }

        var clients = new Task[Clients];
        for (int i = 0; i < Clients; i++)
            clients[i] = RunClient(i);
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Clients, Volatile.Read(ref harness.Handler.OpenedCount));
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.LinuxDescriptorKinds), MemberType = typeof(ReactorHarness))]
    public void Connection_registered_from_another_thread_is_served(string kind)
    {
        using var harness = new ReactorHarness(kind, new TestHandler());
        using var listener = new WsGen.Transport.SocketListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        client.Connect(listener.LocalEndPoint);
        int fd = -1;
        Assert.True(SocketTestExtensions.WaitUntil(() => listener.TryAccept(out fd, out _)));

        harness.Reactor.Register(new WsGen.Transport.SocketConn(fd));
        byte[] message = SocketTestExtensions.Pattern(5000);
        client.SendAll(message);

        Assert.Equal(message, client.ReceiveExactly(message.Length));
        Assert.Equal(1, harness.OnLoop(() => harness.Reactor.ConnectionCount));
    }

    [Fact]
    public void Register_rejects_connections_that_are_not_sockets()
    {
        var (a, _) = InMemoryConn.CreatePair();
        using var epoll = new EpollReactor(new TestHandler());
        using var sockets = new SocketReactor(new TestHandler());

        Assert.Throws<NotSupportedException>(() => epoll.Register(a));
        Assert.Throws<NotSupportedException>(() => sockets.Register(a));
    }
}
