using System.Collections.Concurrent;

namespace WsGen.Tests.Reactor;

/// <summary>
/// A raw-TCP handler for reactor tests: echoes what it reads unless <see cref="DataHook"/> says otherwise, and
/// records what the loop did (thread-safe records, since tests read them from another thread).
/// </summary>
internal sealed class TestHandler : IConnectionHandler
{
    private int _shutdownCalls;
    private long _lastTick;

    /// <summary>Called instead of the echo when set.</summary>
    public Action<INetConn, Span<byte>>? DataHook { get; set; }

    /// <summary>Called before the echo (or hook) with the connection's waiting bytes at the start of OnData.</summary>
    public Action<IReactorConn>? BeforeData { get; set; }

    /// <summary>Runs first in OnOpen.</summary>
    public Action<IReactorConn>? OpenHook { get; set; }

    /// <summary>When true, OnShutdown closes every open connection.</summary>
    public bool CloseOnShutdown { get; set; } = true;

    public ConcurrentDictionary<INetConn, int> Open { get; } = new();

    public ConcurrentDictionary<INetConn, int> CloseCounts { get; } = new();

    public ConcurrentQueue<int> CallbackThreads { get; } = new();

    public ManualResetEventSlim Ticked { get; } = new();

    public ManualResetEventSlim ShutdownCalled { get; } = new();

    public int ShutdownCalls => Volatile.Read(ref _shutdownCalls);

    public long LastTick => Interlocked.Read(ref _lastTick);

    public int OpenedCount;

    public void OnOpen(INetConn conn)
    {
        OpenHook?.Invoke((IReactorConn)conn);
        CallbackThreads.Enqueue(Environment.CurrentManagedThreadId);
        Open[conn] = 0;
        Interlocked.Increment(ref OpenedCount);
    }

    public void OnData(INetConn conn, Span<byte> data)
    {
        BeforeData?.Invoke((IReactorConn)conn);
        if (DataHook is { } hook)
        {
            hook(conn, data);
            return;
        }

        int n = conn.Write(data);
        if (n != data.Length && n != 0)
            throw new InvalidOperationException($"A loop connection took {n} of {data.Length} bytes.");
    }

    public void OnWritable(INetConn conn) => CallbackThreads.Enqueue(Environment.CurrentManagedThreadId);

    public void OnClose(INetConn conn)
    {
        CallbackThreads.Enqueue(Environment.CurrentManagedThreadId);
        Open.TryRemove(conn, out _);
        CloseCounts.AddOrUpdate(conn, 1, static (_, n) => n + 1);
    }

    public void OnTick(long nowMilliseconds)
    {
        CallbackThreads.Enqueue(Environment.CurrentManagedThreadId);
        Interlocked.Exchange(ref _lastTick, nowMilliseconds);
        Ticked.Set();
    }

    public void OnShutdown()
    {
        Interlocked.Increment(ref _shutdownCalls);
        ShutdownCalled.Set();
        if (CloseOnShutdown)
        {
            foreach (INetConn conn in Open.Keys)
                conn.Close();
        }
    }
}
