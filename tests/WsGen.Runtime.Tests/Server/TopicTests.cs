using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>Pub/sub over real sockets, on every loop, with several loops: delivery and order across loops, the order
/// of sends and publishes on one connection, subscribe and unsubscribe against publish, races with close, and the
/// slow-subscriber policies.</summary>
public sealed class TopicTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Loops => TestServers.Loops;

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task Published_messages_reach_every_subscriber_on_every_loop_in_publish_order(string loop)
    {
        using var server = Start(loop, out _, loops: 3);
        var clients = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => ConnectAsync(server)));
        foreach (var client in clients)
            await CommandAsync(client, "sub news", "subscribed news");
        Assert.Equal(12, server.SubscriberCount("news"));
        Assert.True(server.ConnectionsPerLoop.Count(n => n > 0) > 1, "SO_REUSEPORT should spread 12 connections over several loops");

        // Two publishers at once: a background thread (off every loop) and a connection (on its loop, skipped).
        const int FromServer = 500, FromClient = 200;
        var publisher = Task.Run(() =>
        {
            for (int i = 0; i < FromServer; i++)
                Assert.True(server.Publish("news", Encoding.UTF8.GetBytes($"s{i}"), WebSocketOpcode.Text));
        });
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < FromClient; i++)
                await SendAsync(clients[0], $"pub news c{i}");
        });

        await Task.WhenAll(clients.Select(async (client, k) =>
        {
            int s = 0, c = 0;
            int expected = FromServer + (k == 0 ? 0 : FromClient);
            for (int n = 0; n < expected; n++)
            {
                string message = await ReceiveTextAsync(client);
                if (message[0] == 's')
                    Assert.Equal($"s{s++}", message);
                else
                    Assert.Equal($"c{c++}", message);
            }
            Assert.Equal(FromServer, s);
            Assert.Equal(k == 0 ? 0 : FromClient, c);
        }));
        await Task.WhenAll(publisher, sending);
        Assert.False(server.Publish("nobody listens", "x"u8));
        Assert.Equal(0, server.SubscriberCount("nobody listens"));
        foreach (var client in clients)
            client.Dispose();
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task Subscribe_then_publish_delivers_and_unsubscribe_then_publish_does_not(string loop)
    {
        using var server = Start(loop, out var endpoint, loops: 2);
        using var client = await ConnectAsync(server);
        await CommandAsync(client, "name a", "named a");
        var conn = endpoint.Named["a"];

        // From a thread that is no loop's: each call is applied on the connection's loop, in the order of the calls.
        for (int round = 0; round < 50; round++)
        {
            conn.Subscribe("x");
            Assert.True(server.Publish("x", Encoding.UTF8.GetBytes($"in {round}"), WebSocketOpcode.Text));
            conn.Unsubscribe("x");
            server.Publish("x", Encoding.UTF8.GetBytes($"out {round}"), WebSocketOpcode.Text);
        }

        conn.Subscribe("y");
        server.Publish("y", "end"u8, WebSocketOpcode.Text);
        for (int round = 0; round < 50; round++)
            Assert.Equal($"in {round}", await ReceiveTextAsync(client));
        Assert.Equal("end", await ReceiveTextAsync(client));

        // On the loop thread (the connection's own handler), the same.
        await CommandAsync(client, "sub z", "subscribed z");
        Assert.True(conn.IsSubscribed("z"));
        Assert.Equal(["y", "z"], conn.Topics.Order());
        await CommandAsync(client, "unsub z", "unsubscribed z");
        server.Publish("z", "not for you"u8, WebSocketOpcode.Text);
        server.Publish("y", "for you"u8, WebSocketOpcode.Text);
        Assert.Equal("for you", await ReceiveTextAsync(client));
        Assert.False(conn.IsSubscribed("z"));
        Assert.Equal(0, server.SubscriberCount("z"));
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task Sends_and_publishes_to_one_connection_keep_the_order_of_the_calls(string loop)
    {
        using var server = Start(loop, out var endpoint, loops: 2);
        using var client = await ConnectAsync(server);
        await CommandAsync(client, "name a", "named a");
        await CommandAsync(client, "sub o", "subscribed o");
        var conn = endpoint.Named["a"];

        // Off the loop: both are handed to the connection's loop.
        for (int i = 0; i < 1000; i++)
        {
            byte[] payload = Encoding.UTF8.GetBytes($"{i}");
            if (i % 2 == 0)
                server.Publish("o", payload, WebSocketOpcode.Text);
            else
                conn.Send(payload, WebSocketOpcode.Text);
        }

        for (int i = 0; i < 1000; i++)
            Assert.Equal($"{i}", await ReceiveTextAsync(client));

        // On the loop, in the connection's own handler: both go into its corked output.
        await SendAsync(client, "mix o 1000");
        for (int i = 0; i < 1000; i++)
            Assert.Equal($"{i}", await ReceiveTextAsync(client));
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task Publish_racing_subscribe_unsubscribe_and_close_loses_nothing_for_steady_subscribers(string loop)
    {
        using var server = Start(loop, out _, loops: 2);
        var steady = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ConnectAsync(server)));
        foreach (var client in steady)
            await CommandAsync(client, "sub r", "subscribed r");

        // The churn runs against a publisher paced by the steady subscribers (a round of 20 messages once they have
        // all of the one before: faster, they would fall past the publish limit and lose messages by design).
        int churned = 0;
        var churn = Task.Run(async () =>
        {
            for (int round = 0; round < 12; round++)
            {
                using var client = await ConnectAsync(server);
                await SendAsync(client, "sub r");
                // What arrives is in publish order, without duplicates, whatever the timing.
                int last = -1;
                for (int n = 0; n < 5; n++)
                {
                    string message = await ReceiveTextAsync(client);
                    if (message == "subscribed r")
                        continue;
                    int seq = int.Parse(message.AsSpan(1));
                    Assert.True(seq > last, $"{seq} after {last}");
                    last = seq;
                }

                if (round % 3 == 0)
                    client.Abort();                             // TCP drops while the publisher runs
                else if (round % 3 == 1)
                    await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", Cancel());
                else
                    await SendAsync(client, "unsub r");
                Interlocked.Increment(ref churned);
            }
        });

        int published = 0;
        for (int round = 0; round < 100 || Volatile.Read(ref churned) < 12 && !churn.IsCompleted; round++)
        {
            int first = published;
            for (int m = 0; m < 20; m++)
                server.Publish("r", Encoding.UTF8.GetBytes($"r{published++}"), WebSocketOpcode.Text);
            await Task.WhenAll(steady.Select(async client =>
            {
                for (int i = first; i < published; i++)
                    Assert.Equal($"r{i}", await ReceiveTextAsync(client));
            }));
        }

        await churn.WaitAsync(Timeout);

        // Every churned connection ends (or unsubscribed): only the steady subscribers remain.
        Assert.True(SpinWait.SpinUntil(() => server.SubscriberCount("r") == 4 && server.ConnectionCount == 4, Timeout),
            $"{server.SubscriberCount("r")} subscriptions, {server.ConnectionCount} connections");
        server.Publish("r", "last"u8, WebSocketOpcode.Text);
        foreach (var client in steady)
            Assert.Equal("last", await ReceiveTextAsync(client));
    }

    [Theory]
    [InlineData("epoll", SlowSubscriberPolicy.Drop)]
    [InlineData("epoll", SlowSubscriberPolicy.Close)]
    [InlineData("io_uring", SlowSubscriberPolicy.Drop)]
    [InlineData("sockets", SlowSubscriberPolicy.Close)]
    public async Task A_subscriber_that_stops_reading_meets_the_policy_while_the_others_get_every_message(string loop, SlowSubscriberPolicy policy)
    {
        if (loop == "io_uring" && !IoUringReactor.IsSupported)
            return;
        var options = new WebSocketEndpointOptions { PublishLimit = 64 * 1024, SlowSubscribers = policy };
        using var server = Start(loop, out var endpoint, loops: 2, options);
        var fast = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => ConnectAsync(server)));
        for (int i = 0; i < fast.Length; i++)
        {
            await CommandAsync(fast[i], "name f" + i, "named f" + i);
            await CommandAsync(fast[i], "sub feed", "subscribed feed");
        }
        // A small receive buffer, which the kernel does not grow: the peer falls behind after a few hundred KiB.
        using var slow = RawWebSocket.Open(server.LocalEndPoint!, receiveBufferSize: 64 * 1024);
        slow.SendFrame(0x81, "name slow"u8);
        Assert.Equal("named slow", Encoding.UTF8.GetString(slow.ReadFrame()!.Value.Payload));
        endpoint.Named["slow"].Subscribe("feed");

        // The slow peer reads nothing from here on. The fast ones set the pace: a round is published once they
        // have every message of the one before, so they never fall behind by more than a round (64 KiB).
        const int Rounds = 500, PerRound = 8, Size = 4096;
        var payload = new byte[Size];
        for (int round = 0; round < Rounds; round++)
        {
            for (int m = 0; m < PerRound; m++)
            {
                int seq = round * PerRound + m;
                BitConverter.TryWriteBytes(payload, seq);
                server.Publish("feed", payload);
            }

            await Task.WhenAll(fast.Select(async client =>
            {
                for (int m = 0; m < PerRound; m++)
                {
                    var (_, got) = await EchoInteropTests.ReceiveMessageAsync(client, Cancel());
                    Assert.Equal(round * PerRound + m, BitConverter.ToInt32(got));
                }
            }));
        }

        // The fast ones may be on the other loop: the slow one's loop may still have publishes to handle. A subscribe
        // from this thread is applied there behind them, so once it shows, that loop has met every publish (with Drop
        // the slow one stays open to be subscribed).
        var conn = endpoint.Named["slow"];
        if (policy == SlowSubscriberPolicy.Drop)
        {
            conn.Subscribe("barrier");
            Assert.True(SpinWait.SpinUntil(() => conn.IsSubscribed("barrier"), Timeout), "the slow subscriber's loop did not catch up");
        }
        long dropped = conn.DroppedMessages;
        Assert.True(dropped > 0, "the slow subscriber should have missed messages");
        Assert.Equal(0, endpoint.Named["f0"].DroppedMessages);
        Assert.Equal(0, endpoint.Named["f1"].DroppedMessages);

        // The slow peer reads again: what it gets is in order, and with what was dropped makes every message
        // (Drop); or it is a prefix of the messages, then the close frame with 1013 (Close).
        int received = 0, last = -1;
        while (true)
        {
            var frame = slow.ReadFrame();
            Assert.NotNull(frame);
            if ((frame.Value.First & 0x0F) == (int)WebSocketOpcode.Close)
            {
                Assert.Equal(SlowSubscriberPolicy.Close, policy);
                Assert.Equal(1013, frame.Value.Payload[0] << 8 | frame.Value.Payload[1]);
                Assert.Equal(received, last + 1);
                break;
            }

            int seq = BitConverter.ToInt32(frame.Value.Payload);
            Assert.True(seq > last, $"{seq} after {last}");
            last = seq;
            received++;
            if (policy == SlowSubscriberPolicy.Drop && received + conn.DroppedMessages == Rounds * PerRound)
                break;
        }

        if (policy == SlowSubscriberPolicy.Drop)
        {
            Assert.True(conn.IsOpen);
            Assert.Equal(dropped, conn.DroppedMessages);
        }

        foreach (var client in fast)
            client.Dispose();
    }

    [Theory]
    [InlineData("epoll")]
    [InlineData("io_uring")]
    public async Task Ten_thousand_subscribers_in_another_process_each_get_every_message_in_order(string loop)
    {
        if (loop == "io_uring" && !IoUringReactor.IsSupported)
            return;
        const int Subscribers = 10_000, Messages = 20;
        // Every connection is subscribed as it opens (the endpoint declares the topic).
        using var server = Start(loop, out _, loops: 2, new WebSocketEndpointOptions { Topics = ["all"] });
        var interop = Path.Combine(EchoInteropTests.RepositoryRoot(), "tests", "interop");
        Assert.True(Directory.Exists(Path.Combine(interop, "node_modules", "ws")),
            "the npm ws package is missing: run `npm ci` in tests/interop (test.sh and .ci/run do)");
        var start = new System.Diagnostics.ProcessStartInfo("node", ["topic-subscribers.mjs", server.Url("/").ToString(), $"{Subscribers}", $"{Messages}"])
        {
            WorkingDirectory = interop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = System.Diagnostics.Process.Start(start)!;
        _ = node.StandardError.ReadToEndAsync();
        try
        {
            string? line = await node.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.Equal($"open {Subscribers}", line);
            Assert.Equal(Subscribers, server.SubscriberCount("all"));
            Assert.All(server.ConnectionsPerLoop, n => Assert.True(n > 0));

            var publisher = Task.Run(() =>
            {
                for (int i = 0; i < Messages; i++)
                    Assert.True(server.Publish("all", Encoding.UTF8.GetBytes($"m{i}"), WebSocketOpcode.Text));
            });
            line = await node.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.Equal($"ok {Subscribers * Messages}", line);
            await publisher;
            Assert.True(node.WaitForExit(Timeout));
            Assert.Equal(0, node.ExitCode);
        }
        finally
        {
            if (!node.HasExited)
                node.Kill();
        }

        // The subscriptions leave with the connections.
        Assert.True(SpinWait.SpinUntil(() => server.SubscriberCount("all") == 0, Timeout), $"{server.SubscriberCount("all")} left");
    }

    // ---- support ----------------------------------------------------------------------------------------------

    private static CancellationToken Cancel() => new CancellationTokenSource(Timeout).Token;

    private static WebSocketServer Start(string loop, out TopicEndpoint endpoint, int loops, WebSocketEndpointOptions? options = null)
    {
        var serverOptions = TestServers.OptionsFor(loop, new IPEndPoint(IPAddress.Loopback, 0));
        serverOptions.Loops = loops;
        var server = new WebSocketServer(serverOptions);
        endpoint = new TopicEndpoint(server);
        server.Map("*", endpoint, options);
        server.Start();
        return server;
    }

    private static Task<ClientWebSocket> ConnectAsync(WebSocketServer server) => EchoInteropTests.ConnectAsync(server);

    private static Task SendAsync(ClientWebSocket client, string text) =>
        client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Cancel());

    private static async Task<string> ReceiveTextAsync(ClientWebSocket client)
    {
        var (type, payload) = await EchoInteropTests.ReceiveMessageAsync(client, Cancel());
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(payload);
    }

    /// <summary>Sends <paramref name="command"/> and waits for its answer (nothing else may arrive meanwhile).</summary>
    private static async Task CommandAsync(ClientWebSocket client, string command, string answer)
    {
        await SendAsync(client, command);
        Assert.Equal(answer, await ReceiveTextAsync(client));
    }

    /// <summary>Text commands: "sub T", "unsub T" (answered once applied), "pub T text" (published by the
    /// connection, which it skips), "name N" (the test finds the connection by N), "mix T n" (n messages, even ones
    /// published to T, odd ones sent to the connection, from its handler).</summary>
    private sealed class TopicEndpoint(WebSocketServer server) : IWebSocketEndpoint
    {
        public readonly ConcurrentDictionary<string, WebSocketConnection> Named = new();

        public void OnOpen(WebSocketConnection conn)
        {
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            string[] words = Encoding.UTF8.GetString(payload).Split(' ', 3);
            switch (words[0])
            {
                case "sub":
                    conn.Subscribe(words[1]);
                    conn.SendText("subscribed " + words[1]);
                    break;
                case "unsub":
                    conn.Unsubscribe(words[1]);
                    conn.SendText("unsubscribed " + words[1]);
                    break;
                case "pub":
                    conn.Publish(words[1], Encoding.UTF8.GetBytes(words[2]), WebSocketOpcode.Text);
                    break;
                case "name":
                    Named[words[1]] = conn;
                    conn.SendText("named " + words[1]);
                    break;
                case "mix":
                    for (int i = 0; i < int.Parse(words[2]); i++)
                    {
                        byte[] text = Encoding.UTF8.GetBytes($"{i}");
                        if (i % 2 == 0)
                            server.Publish(words[1], text, WebSocketOpcode.Text);
                        else
                            conn.Send(text, WebSocketOpcode.Text);
                    }
                    break;
            }
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }
}

