using WsGen.Backplane.Tests.Support;
using WsGen.Tests;

namespace WsGen.Backplane.Tests;

/// <summary>Chat nodes joined through a real broker (Debian's redis-server and nats-server), and behind nginx with the
/// configuration of samples/Chat/cluster: members of one room on different nodes chat, a killed node's browser tabs
/// come back through nginx on the other node, and a broker restart heals cross-node delivery without touching the
/// nodes.</summary>
public sealed class ChatFailoverTests
{
    [Theory]
    [MemberData(nameof(BackplaneTests.Brokers), MemberType = typeof(BackplaneTests))]
    public void Members_on_two_nodes_chat_through_the_broker_in_order_and_once(string broker)
    {
        using var cluster = new TwoChatNodes(broker);
        using var alice = new ChatMember(cluster[0], "alice");
        using var bob = new ChatMember(cluster[1], "bob");
        alice.Join("r1");
        bob.Join("r1");

        // A node subscribes at the broker in its own time after its first member joins: until then nothing crosses.
        Assert.True(alice.SayUntil("hello", bob, line => line.StartsWith("alice: hello ")), "nothing crossed from node 1 to node 2");
        Assert.True(bob.SayUntil("hi", alice, line => line.StartsWith("bob: hi ")), "nothing crossed from node 2 to node 1");

        // 200 messages from one member: each arrives on the other node once, in the order sent.
        for (int i = 0; i < 200; i++)
            alice.Say($"m{i}");
        var seen = new List<string>();
        while (seen.Count < 200 && bob.WaitFor(line => line.StartsWith("alice: m"), TimeSpan.FromSeconds(30)) is { } line)
            seen.Add(line);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"alice: m{i}"), seen);
        alice.Say("after the burst");
        Assert.NotNull(bob.WaitFor(line => line == "alice: after the burst", TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void A_killed_node_s_browser_tabs_reconnect_through_nginx_to_the_other_node_and_keep_chatting()
    {
        using var cluster = new TwoChatNodes("redis");
        ChatMember[] members = [new(cluster[0], "member1"), new(cluster[1], "member2")];
        HeadlessChromium[] tabs = [];
        try
        {
            foreach (var member in members)
                member.Join("r1");
            Assert.True(members[0].SayUntil("ready", members[1], line => line.StartsWith("member1: ready ")), "the nodes do not share the room");

            using var nginx = new ClusterNginx(cluster[0], cluster[1]);
            tabs = [.. new[] { "alice", "bob" }.Select(name =>
                HeadlessChromium.Open($"http://127.0.0.1:{nginx.Port}/?name={name}&room=r1&say=hello%20from%20{name}"))];
            Assert.Empty(members[0].WaitForAll(["alice: hello from alice", "bob: hello from bob"], TimeSpan.FromSeconds(60)));

            // Kill the node that holds more tabs (least_conn spreads two tabs over two nodes; each node's count includes
            // its direct member); the other node's member then asks each tab something until it answers.
            int[] tabsOn = [ChatCluster.Connections(cluster[0].Port) - 1, ChatCluster.Connections(cluster[1].Port) - 1];
            int victim = tabsOn[0] >= tabsOn[1] ? 0 : 1, survivor = 1 - victim;
            Assert.True(tabsOn[victim] >= 1, $"no tab on either node: {tabsOn[0]} and {tabsOn[1]}");
            cluster.Kill(victim);

            foreach (var name in new[] { "alice", "bob" })
            {
                Assert.True(members[survivor].SayUntil($"@{name} ping", members[survivor], line => line.StartsWith($"{name}: saw: ping ")),
                    $"{name}'s tab did not come back after node {victim + 1} was killed");
            }
            // Both tabs are now on the surviving node, beside its member.
            Assert.Equal(3, ChatCluster.Connections(cluster[survivor].Port));
        }
        finally
        {
            foreach (var tab in tabs)
                tab.Dispose();
            foreach (var member in members)
                member.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(BackplaneTests.Brokers), MemberType = typeof(BackplaneTests))]
    public void A_broker_killed_and_restarted_heals_cross_node_delivery_while_local_delivery_goes_on(string broker)
    {
        using var cluster = new TwoChatNodes(broker);
        using var alice = new ChatMember(cluster[0], "alice");
        using var carol = new ChatMember(cluster[0], "carol");
        using var bob = new ChatMember(cluster[1], "bob");
        foreach (var member in new[] { alice, carol, bob })
            member.Join("r1");
        Assert.True(alice.SayUntil("before", bob, line => line.StartsWith("alice: before ")), "nothing crossed before the outage");

        cluster.Broker.Kill();
        alice.Say("during the outage");
        Assert.NotNull(carol.WaitFor(line => line == "alice: during the outage", TimeSpan.FromSeconds(30)));

        cluster.Broker.Start();
        Assert.True(alice.SayUntil("after", bob, line => line.StartsWith("alice: after ")), "node 1 to node 2 did not resume");
        Assert.True(bob.SayUntil("back", alice, line => line.StartsWith("bob: back ")), "node 2 to node 1 did not resume");
        Assert.True(alice.SayUntil("and", carol, line => line.StartsWith("alice: and ")), "local delivery stopped");
    }
}
