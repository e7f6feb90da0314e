using System.Reflection;
using WsGen.Reactor;

namespace WsGen.Tests.Reactor;

public sealed class EpollConnTests
{
    [Fact]
    public void An_idle_connection_holds_no_buffer()
    {
        var handler = new TestHandler();
        using var harness = new ReactorHarness("epoll", handler);
        using var client = harness.Connect();
        client.SendAll(SocketTestExtensions.Pattern(300_000));
        client.ReceiveExactly(300_000);

        var conn = (EpollConn)handler.Open.Keys.Single();
        var fields = typeof(EpollConn).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        var references = harness.OnLoop(() => fields
            .Where(f => !f.FieldType.IsValueType && f.Name != nameof(EpollConn.Loop))
            .Select(f => (f.Name, Value: f.GetValue(conn)))
            .ToArray());

        Assert.All(references, r => Assert.Null(r.Value));
        Assert.All(fields, f => Assert.False(f.FieldType.IsValueType && !f.FieldType.IsPrimitive && !f.FieldType.IsEnum, $"{f.Name} is a struct"));
        Assert.True(fields.Length <= 10, $"EpollConn has {fields.Length} fields");
    }
}
