using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

public sealed class ReactorCloseTests
{
    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public async Task Graceful_close_delivers_the_last_bytes_despite_unread_input(string kind)
    {
        byte[] last = SocketTestExtensions.Pattern(1024 * 1024, 7);
        var handler = new TestHandler
        {
            DataHook = (conn, data) =>
            {
                if (data[0] == (byte)'C')
                {
                    Assert.Equal(last.Length, conn.Write(last));
                    conn.Close();
                    Assert.Equal(0, conn.Write("after close"u8));
                }
            },
        };
        using var harness = new ReactorHarness(kind, handler);
        using Socket client = harness.Connect();

        // The command and, right behind it, input the server will never read.
        byte[] burst = SocketTestExtensions.Pattern(256 * 1024, 3);
        burst[0] = (byte)'C';
        var sender = Task.Run(() => client.SendAll(burst));

        byte[] received = client.ReceiveToEnd();

        Assert.Equal(last, received);
        await sender.WaitAsync(ReactorHarness.Generous);
        client.Close();
        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == 1));
        Assert.Equal(1, handler.CloseCounts.Values.Single());
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void Peer_close_calls_OnClose_once(string kind)
    {
        var handler = new TestHandler();
        using var harness = new ReactorHarness(kind, handler);
        using (Socket client = harness.Connect())
        {
            client.SendAll("hello"u8);
            client.ReceiveExactly(5);
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == 1));
        Assert.Equal(0, harness.OnLoop(() => harness.Reactor.ConnectionCount));
        Assert.Equal(1, handler.CloseCounts.Values.Single());
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void Abort_closes_at_once(string kind)
    {
        bool closedDuringCallback = true;
        int writeAfterAbort = -1;
        var handler = new TestHandler();
        handler.DataHook = (conn, _) =>
        {
            ((IReactorConn)conn).Abort();
            writeAfterAbort = conn.Write("late"u8);
            closedDuringCallback = handler.CloseCounts.ContainsKey(conn);
        };
        using var harness = new ReactorHarness(kind, handler);
        using Socket client = harness.Connect();
        client.SendAll("x"u8);

        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == 1));
        Assert.False(closedDuringCallback, "OnClose ran inside the callback that aborted");
        Assert.Equal(0, writeAfterAbort);
        try
        {
            Assert.Equal(0, client.Receive(new byte[16]));
        }
        catch (SocketException e)
        {
            Assert.Equal(SocketError.ConnectionReset, e.SocketErrorCode);
        }
    }
}
