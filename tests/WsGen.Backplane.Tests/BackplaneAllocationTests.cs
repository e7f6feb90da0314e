using WsGen.Backplane.Tests.Support;

namespace WsGen.Backplane.Tests;

/// <summary>With a backplane, a publish still allocates nothing on the publishing thread in steady state: the message is
/// copied into a buffer the backplane's queue reuses and handed to its sender. Allocation counts are deterministic,
/// unlike time, so this is a test and not a benchmark.</summary>
public sealed class BackplaneAllocationTests
{
    private const int Warmup = 2_000;
    private const int Measured = 20_000;
    private const int Round = 100;

    [Theory]
    [MemberData(nameof(BackplaneTests.Brokers), MemberType = typeof(BackplaneTests))]
    public void Publishing_twenty_thousand_messages_to_the_broker_allocates_nothing_on_the_publishing_thread(string name)
    {
        using var broker = Broker.Create(name);
        broker.Start();
        using var a = new Node(broker);
        a.WaitForBroker(connected: true);
        byte[] payload = "0123456789abcdef0123456789abcdef"u8.ToArray();

        PublishRounds(a, payload, Warmup);
        long allocated = PublishRounds(a, payload, Measured);

        // A per-publish allocation, even of the smallest object (24 bytes), would make this at least 24 times the
        // number of publishes.
        Assert.True(allocated < Measured, $"the publishing thread allocated {allocated} bytes for {Measured} publishes");
        Assert.Equal(0, a.Backplane.Dropped);
    }

    /// <summary>Publishes in rounds, each sent to the broker before the next (the queue never fills); returns the bytes the
    /// publishes allocated.</summary>
    private static long PublishRounds(Node node, byte[] payload, int count)
    {
        long allocated = 0;
        for (int published = 0; published < count; published += Round)
        {
            long target = node.Backplane.Sent + Round;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Round; i++)
                node.Server.Publish("t", payload, WebSocketOpcode.Binary);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(SpinWait.SpinUntil(() => node.Backplane.Sent >= target, Broker.Timeout), $"sent {node.Backplane.Sent} of {target}");
        }

        return allocated;
    }
}
