using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

public sealed class ReactorBroadcastTests
{
    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void Writes_to_other_connections_reach_them(string kind)
    {
        var handler = new TestHandler();
        handler.DataHook = (_, data) =>
        {
            foreach (INetConn conn in handler.Open.Keys)
                Assert.Equal(data.Length, conn.Write(data));
        };
        using var harness = new ReactorHarness(kind, handler);
        var clients = new Socket[3];
        for (int i = 0; i < clients.Length; i++)
            clients[i] = harness.Connect();
        try
        {
            Assert.True(SocketTestExtensions.WaitUntil(() => handler.Open.Count == clients.Length));

            clients[1].SendAll("hello all"u8);

            foreach (Socket client in clients)
                Assert.Equal("hello all"u8.ToArray(), client.ReceiveExactly(9));
        }
        finally
        {
            foreach (Socket client in clients)
                client.Dispose();
        }
    }
}
