using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using WsGen.Native;

namespace WsGen.Tests.Reactor;

/// <summary>Tests that lower the process's descriptor limit run alone: no other test may open a file meanwhile.</summary>
[CollectionDefinition(nameof(DescriptorLimitCollection), DisableParallelization = true)]
public sealed class DescriptorLimitCollection;

/// <summary>A loop whose process runs out of descriptors stops accepting for a moment: the waiting connections stay
/// in the listen backlog, none is reset, and all are served once descriptors are free again.</summary>
/// <remarks>Not the io_uring loop: its armed accept keeps the descriptor limit the process had when it was armed
/// (the kernel reads it when it prepares the accept), so lowering the limit afterwards cannot reach it. Its own
/// limit, a full direct descriptor table, is covered in <see cref="IoUringDirectDescriptorTests"/>.</remarks>
[Collection(nameof(DescriptorLimitCollection))]
public sealed unsafe partial class ReactorDescriptorLimitTests
{
    /// <summary>The longest the test keeps the process out of descriptors.</summary>
    private static readonly TimeSpan OutOfDescriptorsAtMost = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData("epoll")]
    [InlineData("sockets")]
    public void Running_out_of_descriptors_pauses_accepting_and_loses_no_connection(string kind)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var handler = new TestHandler();
        using var harness = new ReactorHarness(kind, handler);
        using (Socket warm = harness.Connect())
        {
            warm.SendAll("warm"u8);
            Assert.Equal("warm"u8.ToArray(), warm.ReceiveExactly(4));
        }

        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Count == 1));
        // The client sockets take their descriptors before the limit is lowered; connecting needs none.
        var clients = new List<Socket>();
        for (int i = 0; i < 8; i++)
        {
            clients.Add(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true,
                ReceiveTimeout = (int)ReactorHarness.Generous.TotalMilliseconds,
            });
        }

        // No pause yet (and the check below is compiled before descriptors run out).
        Assert.Equal(0, AcceptPauses(harness.Reactor));
        ResourceLimit saved;
        Assert.Equal(0, Libc.getrlimit(Libc.RLIMIT_NOFILE, &saved));
        try
        {
            bool paused;
            int openWhenPaused;
            // Room for two more descriptors: the loop accepts two connections, then runs out.
            ResourceLimit lowered = saved;
            lowered.Current = LimitLeaving(2);
            Assert.Equal(0, setrlimit(Libc.RLIMIT_NOFILE, &lowered));
            try
            {
                foreach (Socket client in clients)
                {
                    client.Connect(harness.EndPoint);
                    client.SendAll("hi"u8);
                }

                // The loop accepts the two that fit, then its next accept fails for want of a descriptor and it
                // pauses accepting: that pause is the event that says the others wait in the backlog. It comes
                // within milliseconds; the bound is shorter than the usual generous one because the process must
                // not stay out of descriptors for long (a thread the runtime starts meanwhile fails to start, and
                // that ends the process). Asserted once the limit is back, so that a failure can be reported.
                paused = SocketTestExtensions.WaitUntil(() => handler.Open.Count >= 2 && AcceptPauses(harness.Reactor) > 0, OutOfDescriptorsAtMost);
                openWhenPaused = handler.Open.Count;
            }
            finally
            {
                Assert.Equal(0, setrlimit(Libc.RLIMIT_NOFILE, &saved));
            }

            Assert.True(paused, $"{openWhenPaused} connections open, {AcceptPauses(harness.Reactor)} accept pauses");
            Assert.Equal(2, openWhenPaused);

            // Every connection is served once descriptors are free again, none reset meanwhile.
            foreach (Socket client in clients)
                Assert.Equal("hi"u8.ToArray(), client.ReceiveExactly(2));
            Assert.Equal(clients.Count, harness.Reactor.ConnectionCount);
        }
        finally
        {
            foreach (Socket client in clients)
                client.Dispose();
        }
    }

    /// <summary>How many times the loop paused accepting for want of descriptors.</summary>
    private static int AcceptPauses(IServerReactor reactor) => reactor switch
    {
        EpollReactor epoll => epoll.AcceptPauses,
        SocketReactor sockets => sockets.AcceptPauses,
        _ => throw new NotSupportedException(reactor.GetType().Name),
    };

    /// <summary>The soft limit under which exactly <paramref name="free"/> descriptor numbers are unused (a new
    /// descriptor takes the lowest unused number, and fails with EMFILE when that is at or above the limit).</summary>
    private static ulong LimitLeaving(int free)
    {
        var used = new HashSet<int>();
        foreach (string entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            used.Add(int.Parse(Path.GetFileName(entry), CultureInfo.InvariantCulture));
        int unused = 0;
        int limit = 0;
        while (unused < free || used.Contains(limit))
        {
            if (!used.Contains(limit))
                unused++;
            limit++;
        }

        return (ulong)limit;
    }

    /// <summary>The runtime only reads the limit (<see cref="Libc.OpenFileLimit"/>); the test sets it.</summary>
    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, ResourceLimit* limit);
}
