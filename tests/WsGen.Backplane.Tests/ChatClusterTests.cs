using System.Net.WebSockets;
using WsGen.Backplane.Tests.Support;
using WsGen.Tests.Samples;

namespace WsGen.Backplane.Tests;

/// <summary>The chat sample as two processes joined by a broker (<c>--redis HOST:PORT</c>, <c>--nats URL</c>): members
/// on different nodes chat in the lobby and in a room they join.</summary>
public sealed class ChatClusterTests
{
    [Theory]
    [MemberData(nameof(BackplaneTests.Brokers), MemberType = typeof(BackplaneTests))]
    public async Task Members_on_two_chat_nodes_hear_each_other(string name)
    {
        using var broker = Broker.Create(name);
        broker.Start();
        string[] cluster = name == "redis" ? ["--redis", $"127.0.0.1:{broker.Port}"] : ["--nats", $"nats://127.0.0.1:{broker.Port}"];
        using var first = SampleProcess.Start("Chat", cluster);
        using var second = SampleProcess.Start("Chat", cluster);
        using var alice = await ConnectAsync(first, "alice");
        using var bob = await ConnectAsync(second, "bob");
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("lobby")) == 2, "both nodes subscribing to the lobby");

        await alice.SendAsync("hello from the first node");
        Assert.Equal("alice: hello from the first node", await alice.ReceiveAsync());
        Assert.Equal("alice: hello from the first node", await bob.ReceiveAsync());

        await alice.CommandAsync("/join kitchen", "joined kitchen");
        await bob.CommandAsync("/join kitchen", "joined kitchen");
        await broker.WaitForSubscriptionsAsync(view => view.GetValueOrDefault(broker.ChannelOf("kitchen")) == 2
            && !view.ContainsKey(broker.ChannelOf("lobby")), "both nodes moving to the kitchen");
        await bob.SendAsync("hi from the second node");
        Assert.Equal("bob: hi from the second node", await bob.ReceiveAsync());
        Assert.Equal("bob: hi from the second node", await alice.ReceiveAsync());
    }

    [Fact]
    public void Chat_takes_one_broker_at_most()
    {
        var (exitCode, _, error) = SampleProcess.RunToExit("Chat", "--redis", "127.0.0.1:1", "--nats", "nats://127.0.0.1:1");
        Assert.Equal(2, exitCode);
        Assert.Contains("[--redis HOST:PORT | --nats URL]", error);
    }

    private static async Task<Client> ConnectAsync(SampleProcess node, string member)
    {
        var socket = new ClientWebSocket();
        using var cts = new CancellationTokenSource(Broker.Timeout);
        await socket.ConnectAsync(new Uri($"ws://{node.EndPoint}/chat?name={member}"), cts.Token);
        return new Client(socket);
    }
}
