using WsGen.Reactor;

namespace WsGen.Tests.Server;

/// <summary>The memory budget of an idle connection (issue 5: at most 256 B of RSS per idle connection). These are
/// budgets, not measurements of the code under test: growing a per-connection object past them needs a decision.</summary>
public sealed class ConnectionSizeTests
{
    /// <summary>An idle connection's objects: the loop's connection and the <see cref="WebSocketConnection"/> (which
    /// embeds the frame reader). The rest of the 256 B goes to the loops' tables and the GC's overhead.</summary>
    /// <remarks>200 B until the connection kept the time it was accepted (the <c>wsgen.connection.duration</c>
    /// histogram) and its message transform in a field of its own (so that a shared-mode permessage-deflate connection
    /// allocates nothing): 12 B of fields, 8 B more once the object is rounded to 8 bytes.</remarks>
    private const int IdleConnectionObjectBudget = 208;

    /// <summary>Every loop's connection is a <see cref="LoopConnection{TBackend}"/>; its size does not depend on the
    /// backend, a struct type parameter that it holds no instance of.</summary>
    [Fact]
    public void AnIdleConnectionsObjectsFitTheBudget()
        => Assert.InRange(SizeOfIdleConnection(() => new LoopConnection<EpollBackend>(null!, -1, 0)), 1, IdleConnectionObjectBudget);

    /// <summary>The bytes the loop's connection (made by <paramref name="create"/>) and its
    /// <see cref="WebSocketConnection"/> take on the managed heap, measured on this thread.</summary>
    private static long SizeOfIdleConnection(Func<INetConn> create)
    {
        create();   // compiles the lambda's code before the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        var conn = new WebSocketConnection(null!, create(), 0);
        long size = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(conn);
        return size;
    }
}
