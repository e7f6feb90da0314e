using System.Diagnostics;
using System.Net;
using System.Text;
using WsGen.Tests.Reactor;

namespace WsGen.Tests.Server;

/// <summary>
/// The per-address limits on every loop, with clients bound to different loopback addresses: a flood of handshakes
/// from 127.0.0.2 is refused with 429 while 127.0.0.3 connects normally at the same time; the connection cap per
/// address; the table forgets every address once its clients left and its bucket refilled.
/// </summary>
public sealed class AddressLimitsTests
{
    public static TheoryData<string> Loops => TestServers.Loops;

    private static readonly IPAddress Flooder = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Neighbour = IPAddress.Parse("127.0.0.3");

    /// <summary>The status line's code of a handshake from <paramref name="from"/>; the socket stays open on 101.</summary>
    private static (int Status, RawWebSocket Raw) Handshake(WebSocketServer server, IPAddress from)
    {
        var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!, from);
        raw.SendText(RawWebSocket.Request("/"));
        string head = raw.ReadHttpHead();
        return (int.Parse(head.AsSpan(9, 3)), raw);
    }

    private static void AssertEchoes(RawWebSocket raw, string text)
    {
        raw.SendFrame(0x81, Encoding.UTF8.GetBytes(text));
        var frame = raw.ReadFrame();
        Assert.NotNull(frame);
        Assert.Equal(text, Encoding.UTF8.GetString(frame.Value.Payload));
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task HandshakeFlood_FromOneAddress_Gets429_WhileAnotherConnects(string reactor)
    {
        const int perSecond = 5;
        using var server = TestServers.StartEcho(reactor, o => o.MaxHandshakesPerSecondPerAddress = perSecond);
        var open = new List<RawWebSocket>();
        try
        {
            // The neighbour connects, a few times and keeps echoing, while the flood runs.
            var neighbour = Task.Run(() =>
            {
                var mine = new List<RawWebSocket>();
                for (int i = 0; i < perSecond - 1; i++)
                {
                    var (status, raw) = Handshake(server, Neighbour);
                    mine.Add(raw);
                    Assert.Equal(101, status);
                    AssertEchoes(raw, "neighbour " + i);
                }

                return mine;
            });

            var clock = Stopwatch.StartNew();
            int accepted = 0, refused = 0;
            for (int i = 0; i < 40; i++)
            {
                var (status, raw) = Handshake(server, Flooder);
                if (status == 101)
                {
                    accepted++;
                    open.Add(raw);
                    continue;
                }

                Assert.Equal(429, status);
                Assert.True(raw.ReadsEndOfStream());
                raw.Dispose();
                refused++;
            }

            double seconds = clock.Elapsed.TotalSeconds;
            Assert.True(refused > 0, $"no 429 among 40 handshakes in {seconds:F2} s");
            Assert.InRange(accepted, perSecond, perSecond + (int)Math.Ceiling(seconds * perSecond));

            open.AddRange(await neighbour);
            foreach (var raw in open)
                AssertEchoes(raw, "still here");
        }
        finally
        {
            foreach (var raw in open)
                raw.Dispose();
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 0));
        // Every address leaves the table once its bucket is full again (a second at most).
        Assert.True(SocketTestExtensions.WaitUntil(() => server.AddressLimitEntries == 0), $"{server.AddressLimitEntries} entries left");
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void ConnectionCap_PerAddress_Refuses429_UntilOneLeaves(string reactor)
    {
        const int cap = 3;
        using var server = TestServers.StartEcho(reactor, o => o.MaxConnectionsPerAddress = cap);
        var open = new List<RawWebSocket>();
        try
        {
            for (int i = 0; i < cap; i++)
            {
                var (status, raw) = Handshake(server, Flooder);
                open.Add(raw);
                Assert.Equal(101, status);
            }

            var (over, refusedRaw) = Handshake(server, Flooder);
            using (refusedRaw)
            {
                Assert.Equal(429, over);
                Assert.True(refusedRaw.ReadsEndOfStream());
            }

            // Another address is not affected.
            var (neighbourStatus, neighbour) = Handshake(server, Neighbour);
            open.Add(neighbour);
            Assert.Equal(101, neighbourStatus);
            AssertEchoes(neighbour, "fine");

            // One of the capped address's connections leaves: its place is free again.
            open[0].Dispose();
            open.RemoveAt(0);
            Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == cap));
            var (again, raw2) = Handshake(server, Flooder);
            open.Add(raw2);
            Assert.Equal(101, again);
            foreach (var raw in open)
                AssertEchoes(raw, "echo");
        }
        finally
        {
            foreach (var raw in open)
                raw.Dispose();
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => server.ConnectionCount == 0));
        Assert.True(SocketTestExtensions.WaitUntil(() => server.AddressLimitEntries == 0), $"{server.AddressLimitEntries} entries left");
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void LimitsOff_ByDefault_TrackNothing(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        var open = new List<RawWebSocket>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                var (status, raw) = Handshake(server, Flooder);
                open.Add(raw);
                Assert.Equal(101, status);
            }

            Assert.Equal(0, server.AddressLimitEntries);
        }
        finally
        {
            foreach (var raw in open)
                raw.Dispose();
        }
    }
}
