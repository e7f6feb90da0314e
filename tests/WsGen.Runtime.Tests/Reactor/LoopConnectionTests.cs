using System.Reflection;
using WsGen.Reactor;

namespace WsGen.Tests.Reactor;

public sealed class LoopConnectionTests
{
    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void An_idle_connection_holds_no_buffer(string kind)
    {
        var handler = new TestHandler();
        using var harness = new ReactorHarness(kind, handler);
        using var client = harness.Connect();
        client.SendAll(SocketTestExtensions.Pattern(300_000));
        client.ReceiveExactly(300_000);

        var conn = handler.Open.Keys.Single();
        Assert.Equal(typeof(LoopConnection<>), conn.GetType().GetGenericTypeDefinition());
        var fields = conn.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        var references = harness.OnLoop(() => fields
            .Where(f => !f.FieldType.IsValueType && f.Name != "Core")
            .Select(f => (f.Name, Value: f.GetValue(conn)))
            .ToArray());

        Assert.All(references, r => Assert.Null(r.Value));
        Assert.All(fields, f => Assert.False(f.FieldType.IsValueType && !f.FieldType.IsPrimitive && !f.FieldType.IsEnum, $"{f.Name} is a struct"));
        Assert.True(fields.Length <= 9, $"LoopConnection has {fields.Length} fields");
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.NativeKinds), MemberType = typeof(ReactorHarness))]
    public void Echo_in_steady_state_allocates_nothing_on_the_loop_thread(string kind)
    {
        const int Warmup = 200;
        const int Measured = 1000;
        int calls = 0;
        long before = 0;
        long after = 0;
        var handler = new TestHandler();
        handler.DataHook = (conn, data) =>
        {
            calls++;
            if (calls == Warmup)
                before = GC.GetAllocatedBytesForCurrentThread();
            conn.Write(data);
            if (calls == Warmup + Measured)
                after = GC.GetAllocatedBytesForCurrentThread();
        };
        using var harness = new ReactorHarness(kind, handler);
        using var client = harness.Connect();
        byte[] message = SocketTestExtensions.Pattern(1000);

        // One message at a time, so that every OnData sees one message.
        for (int i = 0; i < Warmup + Measured; i++)
        {
            client.SendAll(message);
            client.ReceiveExactly(message.Length);
        }

        Assert.Equal(Warmup + Measured, harness.OnLoop(() => calls));
        Assert.Equal(0, after - before);
    }
}
