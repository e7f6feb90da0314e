using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

/// <summary>The io_uring loop accepts into its ring's direct descriptor table: the server side of a connection has
/// no entry in the process's descriptor table, so the loop's capacity does not depend on RLIMIT_NOFILE.</summary>
public sealed class IoUringDirectDescriptorTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Accepted_sockets_are_direct_descriptors_unless_turned_off(bool direct)
    {
        if (!IoUringReactor.IsSupported)
            return;
        var handler = new TestHandler();
        using var harness = new ReactorHarness("io_uring", handler, configure: r => ((IoUringReactor)r).UseDirectDescriptors = direct);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                Socket client = harness.Connect();
                clients.Add(client);
                client.SendAll("ping"u8);
                Assert.Equal("ping"u8.ToArray(), client.ReceiveExactly(4));
            }

            var reactor = (IoUringReactor)harness.Reactor;
            Assert.Equal(direct, reactor.DirectDescriptorSlots > 0);
            HashSet<string> ownSockets = ProcessSocketInodes();
            foreach (Socket client in clients)
            {
                string serverSide = ServerSideInode(harness.EndPoint.Port, ((IPEndPoint)client.LocalEndPoint!).Port);
                Assert.Equal(!direct, ownSockets.Contains(serverSide));
            }
        }
        finally
        {
            foreach (Socket client in clients)
                client.Dispose();
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == 8));
    }

    [Fact]
    public void Graceful_close_of_a_direct_descriptor_flushes_then_ends_the_stream()
    {
        if (!IoUringReactor.IsSupported)
            return;
        byte[] reply = SocketTestExtensions.Pattern(300_000);
        var handler = new TestHandler
        {
            DataHook = (conn, _) =>
            {
                conn.Write(reply);
                conn.Close();
            },
        };
        using var harness = new ReactorHarness("io_uring", handler);
        using Socket client = harness.Connect();
        client.SendAll("bye"u8);

        Assert.Equal(reply, client.ReceiveToEnd());
        Assert.True(((IoUringReactor)harness.Reactor).DirectDescriptorSlots > 0);
        client.Shutdown(SocketShutdown.Send);
        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == 1));
        Assert.Equal(0, harness.Reactor.ConnectionCount);
    }

    /// <summary>A server-side close shuts the socket down through the ring (asynchronously) and frees its table slot
    /// when the peer's end of stream arrives, which can be at once; a connection accepted right after may get the
    /// same slot. Its exchange must never be hit by the earlier connection's shutdown.</summary>
    [Fact]
    public void A_slot_freed_by_a_close_is_safe_to_reuse_at_once()
    {
        if (!IoUringReactor.IsSupported)
            return;
        var handler = new TestHandler
        {
            DataHook = (conn, data) =>
            {
                conn.Write(data);
                if (data[0] == (byte)'q')
                    conn.Close();
            },
        };
        using var harness = new ReactorHarness("io_uring", handler);
        for (int i = 0; i < 200; i++)
        {
            using (Socket closing = harness.Connect())
            {
                closing.SendAll("quit"u8);
                Assert.Equal("quit"u8.ToArray(), closing.ReceiveToEnd());
            }

            using Socket next = harness.Connect();
            next.SendAll("next"u8);
            Assert.Equal("next"u8.ToArray(), next.ReceiveExactly(4));
        }
    }

    /// <summary>The kernel accepts a connection before it looks for a free slot of the table, and drops it when
    /// there is none. So a full table must stop the loop accepting: the connections beyond it wait in the listen
    /// backlog, untouched, and are served as soon as earlier ones close.</summary>
    [Fact]
    public void Connections_beyond_a_full_table_wait_in_the_backlog_until_a_slot_frees()
    {
        if (!IoUringReactor.IsSupported)
            return;
        const int slots = 16;
        var handler = new TestHandler();
        using var harness = new ReactorHarness("io_uring", handler, configure: r => ((IoUringReactor)r).DirectDescriptorLimit = slots);
        var served = new List<Socket>();
        var waiting = new List<Socket>();
        try
        {
            for (int i = 0; i < slots; i++)
            {
                Socket client = harness.Connect();
                served.Add(client);
                client.SendAll("ping"u8);
                Assert.Equal("ping"u8.ToArray(), client.ReceiveExactly(4));
            }

            var reactor = (IoUringReactor)harness.Reactor;
            Assert.Equal(slots, reactor.DirectDescriptorSlots);
            for (int i = 0; i < 4; i++)
            {
                Socket client = harness.Connect();
                waiting.Add(client);
                client.SendAll("wait"u8);
            }

            // The loop holds no accept while the table is full, so the kernel cannot take these connections out of
            // the backlog: nothing came back on them (neither an echo nor a reset or end of stream).
            Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => reactor.AcceptWaitsForSlot)), "the full table did not stop accepting");
            foreach (Socket client in waiting)
                Assert.False(client.Poll(0, SelectMode.SelectRead), "a connection beyond the table was accepted or dropped");
            Assert.Equal(slots, harness.Reactor.ConnectionCount);

            for (int i = 0; i < waiting.Count; i++)
                served[i].Dispose();
            foreach (Socket client in waiting)
                Assert.Equal("wait"u8.ToArray(), client.ReceiveExactly(4));
            Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == waiting.Count));
            Assert.Equal(slots, harness.Reactor.ConnectionCount);

            // The table is full again: one more waits, and is served when another closes.
            using Socket last = harness.Connect();
            last.SendAll("last"u8);
            Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => reactor.AcceptWaitsForSlot)), "the full table did not stop accepting");
            Assert.False(last.Poll(0, SelectMode.SelectRead), "a connection beyond the table was accepted or dropped");
            served[^1].Dispose();
            Assert.Equal("last"u8.ToArray(), last.ReceiveExactly(4));
        }
        finally
        {
            foreach (Socket client in served.Concat(waiting))
                client.Dispose();
        }
    }

    /// <summary>The inodes of the sockets this process holds descriptors for.</summary>
    private static HashSet<string> ProcessSocketInodes()
    {
        var inodes = new HashSet<string>();
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                inodes.Add(target[8..^1]);
        }

        return inodes;
    }

    /// <summary>The inode of the loopback socket whose local port is <paramref name="serverPort"/> and whose peer's
    /// port is <paramref name="clientPort"/>, from /proc/net/tcp.</summary>
    private static string ServerSideInode(int serverPort, int clientPort)
    {
        string local = serverPort.ToString("X4", CultureInfo.InvariantCulture);
        string remote = clientPort.ToString("X4", CultureInfo.InvariantCulture);
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields[1].EndsWith(":" + local, StringComparison.Ordinal) && fields[2].EndsWith(":" + remote, StringComparison.Ordinal))
                return fields[9];
        }

        throw new InvalidOperationException($"No socket from port {serverPort} to port {clientPort} in /proc/net/tcp.");
    }
}
