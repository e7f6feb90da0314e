using System.Diagnostics;
using System.Text;
using WsGen.Backplane.Tests.Support;

namespace WsGen.Backplane.Tests;

/// <summary>
/// Two WsGen nodes in this process, joined by a real broker that the test starts (redis-server, nats-server), with
/// real clients (ClientWebSocket, and npm ws for a thousand subscribers): delivery across nodes in publish order,
/// nothing twice, broker subscriptions only for topics with local subscribers (the broker's own view), and a broker
/// killed and started again on the same port.
/// </summary>
/// <remarks>Every wait is on a condition with a deadline: a message, a counter, the broker's view.</remarks>
public sealed class BackplaneTests
{
    public static TheoryData<string> Brokers => ["redis", "nats"];

    [Theory]
    [MemberData(nameof(Brokers))]
    public async Task Messages_cross_nodes_in_publish_order_and_none_arrives_twice(string name)
    {
        using var broker = Started(name);
        using var a = new Node(broker);
        using var b = new Node(broker);
        using var onA = await a.ConnectAsync();
        using var onB = await b.ConnectAsync();
        using var publisherOnB = await b.ConnectAsync();
        await onA.CommandAsync("sub news", "subscribed news");
        await onB.CommandAsync("sub news", "subscribed news");
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("news")) == 2, "both nodes subscribing to news");

        // Two publishers at once: a thread of node A (WebSocketServer.Publish) and a connection of node B, not
        // subscribed itself (WebSocketConnection.Publish, on B's loop).
        const int FromA = 2000, FromB = 500;
        var publisherA = Task.Run(() =>
        {
            for (int i = 0; i < FromA; i++)
                a.Server.Publish("news", Encoding.UTF8.GetBytes($"a{i}"), WebSocketOpcode.Text);
        });
        var publisherB = Task.Run(async () =>
        {
            for (int i = 0; i < FromB; i++)
                await publisherOnB.SendAsync($"pub news b{i}");
        });

        // Each subscriber, on either node, gets each publisher's messages once and in order (local ones directly,
        // the other node's through the broker), interleaved in any way.
        await Task.WhenAll(new[] { onA, onB }.Select(async client =>
        {
            var got = await Receive.ManyAsync(client, FromA + FromB);
            Assert.Equal(Receive.Sequence("a", FromA), got.Where(m => m[0] == 'a'));
            Assert.Equal(Receive.Sequence("b", FromB), got.Where(m => m[0] == 'b'));
        }));
        await Task.WhenAll(publisherA, publisherB);

        // Node B has every message of node A, so the broker has sent node A its own messages back already (one
        // channel's messages keep their order): a message B publishes now reaches A after them. A's subscriber gets it
        // next, so A delivered nothing of its own twice; and B's subscriber the same.
        b.Server.Publish("news", "last"u8, WebSocketOpcode.Text);
        Assert.Equal("last", await onA.ReceiveAsync());
        Assert.Equal("last", await onB.ReceiveAsync());

        // What the counters (the WsGen meter's wsgen.backplane.*) say: each node sent its own messages and received the
        // other's, and dropped nothing.
        Assert.True(SpinWait.SpinUntil(() => a.Backplane.Sent == FromA && b.Backplane.Sent == FromB + 1, Broker.Timeout),
            $"sent: A {a.Backplane.Sent}, B {b.Backplane.Sent}");
        Assert.Equal(FromB + 1, a.Backplane.Received);
        Assert.Equal(FromA, b.Backplane.Received);
        Assert.Equal(0, a.Backplane.Dropped + b.Backplane.Dropped);
        Assert.Equal(FromA, Meters.Read(a, "wsgen.backplane.sent"));
        Assert.Equal(FromB + 1, Meters.Read(a, "wsgen.backplane.received"));
        Assert.Equal(0, Meters.Read(a, "wsgen.backplane.dropped"));
        Assert.Equal(FromA, Meters.Read(b, "wsgen.backplane.received"));
    }

    [Theory]
    [MemberData(nameof(Brokers))]
    public async Task A_node_subscribes_at_the_broker_only_while_it_has_local_subscribers(string name)
    {
        using var broker = Started(name);
        using var a = new Node(broker);
        using var b = new Node(broker);
        const string Topic = "room one.b*>";          // spaces, dots and wildcards mean something to NATS
        string channel = broker.ChannelOf(Topic);

        // The first subscriber on node A subscribes node A; a second one on A does not subscribe A again.
        using var first = await a.ConnectAsync();
        await first.CommandAsync("sub " + Topic, "subscribed " + Topic);
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(channel) == 1, "node A subscribing");
        var second = await a.ConnectAsync();
        await second.CommandAsync("sub " + Topic, "subscribed " + Topic);
        using var onB = await b.ConnectAsync();
        await onB.CommandAsync("sub " + Topic, "subscribed " + Topic);
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(channel) == 2, "node B subscribing");
        Assert.Equal(2, (await broker.SubscriptionsAsync()).GetValueOrDefault(channel));

        // A publish on B crosses to both subscribers on A.
        b.Server.Publish(Topic, "to A"u8, WebSocketOpcode.Text);
        Assert.Equal("to A", await first.ReceiveAsync());
        Assert.Equal("to A", await second.ReceiveAsync());
        Assert.Equal("to A", await onB.ReceiveAsync());

        // A keeps its broker subscription while one subscriber is left, and ends it with the last (unsubscribed, then
        // a connection that closes).
        await first.CommandAsync("unsub " + Topic, "unsubscribed " + Topic);
        second.Dispose();
        Assert.True(SpinWait.SpinUntil(() => a.Server.SubscriberCount(Topic) == 0, Broker.Timeout));
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(channel) == 1, "node A unsubscribing");

        // A node without subscribers still publishes to the others.
        a.Server.Publish(Topic, "to B"u8, WebSocketOpcode.Text);
        Assert.Equal("to B", await onB.ReceiveAsync());

        await onB.CommandAsync("unsub " + Topic, "unsubscribed " + Topic);
        await broker.WaitForSubscriptionsAsync(view => !view.ContainsKey(channel), "node B unsubscribing");
    }

    [Theory]
    [MemberData(nameof(Brokers))]
    public async Task A_broker_killed_and_restarted_drops_and_counts_what_was_published_meanwhile_and_delivery_resumes(string name)
    {
        using var broker = Started(name);
        using var a = new Node(broker);
        using var b = new Node(broker);
        using var onA = await a.ConnectAsync();
        using var onB = await b.ConnectAsync();
        using var leaving = await a.ConnectAsync();
        await onA.CommandAsync("sub t", "subscribed t");
        await onB.CommandAsync("sub t", "subscribed t");
        await leaving.CommandAsync("sub v", "subscribed v");
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("t")) == 2
            && view.GetValueOrDefault(broker.ChannelOf("v")) == 1, "both nodes subscribing");
        a.Server.Publish("t", "before"u8, WebSocketOpcode.Text);
        Assert.Equal("before", await onA.ReceiveAsync());
        Assert.Equal("before", await onB.ReceiveAsync());

        broker.Kill();
        a.WaitForBroker(connected: false);
        b.WaitForBroker(connected: false);

        // During the outage: local delivery goes on; what goes to the broker is dropped and counted; a subscription
        // made meanwhile (topic u on A) is made at the broker once it is back, one ended meanwhile (v) is not restored.
        const int During = 100;
        long dropped = a.Backplane.Dropped;
        for (int i = 0; i < During; i++)
            a.Server.Publish("t", Encoding.UTF8.GetBytes($"during{i}"), WebSocketOpcode.Text);
        Assert.Equal(Receive.Sequence("during", During), await Receive.ManyAsync(onA, During));
        Assert.True(SpinWait.SpinUntil(() => a.Backplane.Dropped - dropped == During, Broker.Timeout), $"{a.Backplane.Dropped - dropped} dropped");
        using var onA2 = await a.ConnectAsync();
        await onA2.CommandAsync("sub u", "subscribed u");
        await leaving.CommandAsync("unsub v", "unsubscribed v");

        // The broker comes back on the same port: the nodes reconnect by themselves and restore their subscriptions.
        broker.Start();
        a.WaitForBroker(connected: true);
        b.WaitForBroker(connected: true);
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("t")) == 2
            && view.GetValueOrDefault(broker.ChannelOf("u")) == 1, "the subscriptions restored");
        Assert.False((await broker.SubscriptionsAsync()).ContainsKey(broker.ChannelOf("v")));

        // Each once: a subscription restored twice would deliver twice.
        a.Server.Publish("t", "after"u8, WebSocketOpcode.Text);
        a.Server.Publish("t", "after 2"u8, WebSocketOpcode.Text);
        Assert.Equal(["after", "after 2"], await Receive.ManyAsync(onA, 2));
        Assert.Equal(["after", "after 2"], await Receive.ManyAsync(onB, 2));     // none of the messages of the outage
        b.Server.Publish("u", "to the new subscriber"u8, WebSocketOpcode.Text);
        b.Server.Publish("u", "again"u8, WebSocketOpcode.Text);
        Assert.Equal(["to the new subscriber", "again"], await Receive.ManyAsync(onA2, 2));
        Assert.Equal(During, a.Backplane.Dropped - dropped);
        Assert.Equal(a.Backplane.Dropped, Meters.Read(a, "wsgen.backplane.dropped"));
    }

    [Theory]
    [MemberData(nameof(Brokers))]
    public async Task Nodes_started_before_the_broker_connect_when_it_comes_up_and_subscribe_what_their_clients_asked_for(string name)
    {
        using var broker = Broker.Create(name);       // its port is chosen, nothing listens there yet
        using var a = new Node(broker);
        using var b = new Node(broker);
        using var onA = await a.ConnectAsync();
        using var onB = await b.ConnectAsync();
        await onA.CommandAsync("sub early", "subscribed early");
        await onB.CommandAsync("sub early", "subscribed early");
        Assert.False(a.Backplane.Connected);

        // Without a broker the nodes serve their own subscribers, and count what could not go to the others.
        a.Server.Publish("early", "alone"u8, WebSocketOpcode.Text);
        Assert.Equal("alone", await onA.ReceiveAsync());
        Assert.True(SpinWait.SpinUntil(() => a.Backplane.Dropped == 1, Broker.Timeout), $"{a.Backplane.Dropped} dropped");

        broker.Start();
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("early")) == 2, "both nodes subscribing");
        a.Server.Publish("early", "together"u8, WebSocketOpcode.Text);
        Assert.Equal("together", await onA.ReceiveAsync());
        Assert.Equal("together", await onB.ReceiveAsync());
    }

    [Theory]
    [MemberData(nameof(Brokers))]
    public async Task A_publisher_on_node_A_reaches_a_thousand_subscribers_on_node_B_each_once_in_order(string name)
    {
        using var broker = Started(name);
        using var a = new Node(broker);
        using var b = new Node(broker);
        const int Subscribers = 1000, Messages = 100;
        string interop = Path.Combine(RepositoryRoot(), "tests", "interop");
        Assert.True(Directory.Exists(Path.Combine(interop, "node_modules", "ws")),
            "the npm ws package is missing: run `npm ci` in tests/interop (test.sh and .ci/run do)");
        var start = new ProcessStartInfo("node", ["topic-subscribers.mjs", b.Url("/all").ToString(), $"{Subscribers}", $"{Messages}"])
        {
            WorkingDirectory = interop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        _ = node.StandardError.ReadToEndAsync();
        try
        {
            Assert.Equal($"open {Subscribers}", await node.StandardOutput.ReadLineAsync().WaitAsync(Broker.Timeout));
            Assert.Equal(Subscribers, b.Server.SubscriberCount("all"));
            await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("all")) == 1, "node B subscribing");

            // Node A has no subscriber of "all": its publishes go to the broker only.
            a.WaitForBroker(connected: true);
            for (int i = 0; i < Messages; i++)
                Assert.False(a.Server.Publish("all", Encoding.UTF8.GetBytes($"m{i}"), WebSocketOpcode.Text));
            // The script checks that every connection got m0 .. m99, in order, each once.
            Assert.Equal($"ok {Subscribers * Messages}", await node.StandardOutput.ReadLineAsync().WaitAsync(Broker.Timeout));
            Assert.True(node.WaitForExit(Broker.Timeout));
            Assert.Equal(0, node.ExitCode);
        }
        finally
        {
            if (!node.HasExited)
                node.Kill();
        }

        Assert.Equal(Messages, b.Backplane.Received);
        Assert.True(SpinWait.SpinUntil(() => a.Backplane.Sent == Messages, Broker.Timeout), $"sent: {a.Backplane.Sent}");
        Assert.Equal(0, a.Backplane.Dropped);
    }

    private static Broker Started(string name)
    {
        var broker = Broker.Create(name);
        broker.Start();
        return broker;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "WsGen.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("WsGen.sln not found above the test folder.");
    }
}
