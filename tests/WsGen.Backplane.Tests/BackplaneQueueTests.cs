using System.Collections.Concurrent;
using System.Net;
using System.Text;
using WsGen.Backplane.Tests.Support;

namespace WsGen.Backplane.Tests;

/// <summary>
/// The base class's own rules, with a backplane of the test's (no broker): a full queue drops and counts, the sender
/// gathers a topic's queued messages into one broker message, the message format crosses to another node and a node's
/// own messages coming back are ignored, and the broker subscription follows the first and last local subscriber.
/// </summary>
public sealed class BackplaneQueueTests
{
    [Fact]
    public async Task A_full_queue_drops_and_counts_and_what_was_queued_crosses_in_one_broker_message_in_order()
    {
        using var gated = new ManualBackplane { QueueCapacity = 10 };
        var toB = new ManualBackplane();
        using var a = Start(gated);
        using var b = Start(toB);
        using var onA = await Connect(a);
        using var onB = await Connect(b);
        await onA.CommandAsync("sub t", "subscribed t");
        await onB.CommandAsync("sub t", "subscribed t");
        Assert.True(SpinWait.SpinUntil(() => gated.Calls.Contains("subscribe t") && toB.Calls.Contains("subscribe t"), Broker.Timeout));

        // The first message holds the sender inside the broker call; ten more fill the queue; five more are dropped.
        gated.Hold();
        a.Publish("t", "m0"u8, WebSocketOpcode.Text);
        Assert.True(gated.Entered.Wait(Broker.Timeout), "the sender did not call the broker");
        for (int i = 1; i <= 15; i++)
            a.Publish("t", Encoding.UTF8.GetBytes($"m{i}"), WebSocketOpcode.Text);
        Assert.Equal(5, gated.Dropped);

        // The node's own subscriber got all sixteen, whatever the queue did.
        Assert.Equal(Receive.Sequence("m", 16), await Receive.ManyAsync(onA, 16));

        // Released, the sender sends the ten queued messages as one broker message (they are all of topic t).
        gated.Release();
        Assert.True(SpinWait.SpinUntil(() => gated.Sent == 11, Broker.Timeout), $"sent {gated.Sent}");
        Assert.Equal(2, gated.Published.Count);

        // Handed to node B (as a broker would), they reach B's subscriber in order; handed back to node A, they are
        // A's own and ignored: A's subscriber gets only what B publishes next.
        foreach (var (topic, message) in gated.Published)
        {
            toB.Deliver(topic, message);
            gated.Deliver(topic, message);
        }
        Assert.Equal(Receive.Sequence("m", 11), await Receive.ManyAsync(onB, 11));
        Assert.Equal(11, toB.Received);
        b.Publish("t", "from b"u8, WebSocketOpcode.Text);
        Assert.Equal("from b", await onB.ReceiveAsync());
        Assert.True(SpinWait.SpinUntil(() => toB.Published.Count == 1, Broker.Timeout));
        gated.Deliver(toB.Published.Single().Topic, toB.Published.Single().Message);
        Assert.Equal("from b", await onA.ReceiveAsync());
        Assert.Equal(1, gated.Received);

        // Not this format (another application on the broker): ignored.
        toB.Deliver("t", "plain text"u8.ToArray());
        Assert.Equal(11, toB.Received);
    }

    [Fact]
    public async Task The_broker_subscription_follows_the_first_and_last_local_subscriber()
    {
        using var backplane = new ManualBackplane();
        using var server = Start(backplane);
        using var first = await Connect(server);
        using var second = await Connect(server);
        await first.CommandAsync("sub r", "subscribed r");
        await second.CommandAsync("sub r", "subscribed r");
        await first.CommandAsync("unsub r", "unsubscribed r");
        await second.CommandAsync("unsub r", "unsubscribed r");
        await first.CommandAsync("sub r", "subscribed r");
        Assert.True(SpinWait.SpinUntil(() => backplane.Calls.Count == 3, Broker.Timeout), string.Join(", ", backplane.Calls));
        Assert.Equal(["subscribe r", "unsubscribe r", "subscribe r"], backplane.Calls);
    }

    private static WebSocketServer Start(WebSocketBackplane backplane)
    {
        var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Backplane = backplane });
        server.Map("*", new Node.TopicEndpoint());
        server.Start();
        return server;
    }

    private static async Task<Client> Connect(WebSocketServer server)
    {
        var socket = new System.Net.WebSockets.ClientWebSocket();
        using var cts = new CancellationTokenSource(Broker.Timeout);
        await socket.ConnectAsync(new Uri($"ws://{server.LocalEndPoint}/"), cts.Token);
        return new Client(socket);
    }

    /// <summary>A backplane whose "broker" is the test: it records the calls and the messages, can hold the sender inside
    /// a publish, and hands the test's messages to the node.</summary>
    private sealed class ManualBackplane : WebSocketBackplane, IDisposable
    {
        private readonly ManualResetEventSlim _gate = new(true);

        public ConcurrentQueue<string> Calls { get; } = new();

        public ConcurrentQueue<(string Topic, byte[] Message)> Published { get; } = new();

        public ManualResetEventSlim Entered { get; } = new(false);

        protected override bool IsConnected => true;

        public void Hold() => _gate.Reset();

        public void Release() => _gate.Set();

        public void Deliver(string topic, byte[] message) => Receive(topic, message);

        protected override Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        protected override Task DisconnectAsync() => Task.CompletedTask;

        protected override Task SubscribeAsync(string topic)
        {
            Calls.Enqueue("subscribe " + topic);
            return Task.CompletedTask;
        }

        protected override Task UnsubscribeAsync(string topic)
        {
            Calls.Enqueue("unsubscribe " + topic);
            return Task.CompletedTask;
        }

        protected override ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> message)
        {
            Entered.Set();
            _gate.Wait();      // the sender is held here while the test fills the queue
            Published.Enqueue((topic, message.ToArray()));
            return ValueTask.CompletedTask;
        }

        public void Dispose()
        {
            _gate.Set();
            _gate.Dispose();
            Entered.Dispose();
        }
    }
}
