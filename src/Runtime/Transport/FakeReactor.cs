using System.Collections.Concurrent;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// A reactor without sockets, for tests of the layers above: it drives an <see cref="IConnectionHandler"/>
/// synchronously over any <see cref="INetConn"/> (typically one end of <see cref="InMemoryConn.CreatePair"/>).
/// </summary>
/// <remarks>
/// The handler sees the contract of the real loops: its connections are <see cref="IReactorConn"/> wrappers whose
/// writes are corked during a callback for that connection and flushed to the underlying connection when it
/// returns; what the underlying connection does not take waits (reading pauses above
/// <see cref="PauseReadingThreshold"/>, a write beyond <see cref="MaxBackpressure"/> aborts the connection and
/// returns 0); <see cref="INetConn.Close"/> flushes, then closes the underlying connection;
/// <see cref="IConnectionHandler.OnClose"/> runs once, after the callback in which the connection ended.
/// Time only moves with <see cref="AdvanceTime"/>.
/// </remarks>
internal sealed class FakeReactor : IReactor, IEventLoop
{
    private readonly IConnectionHandler _handler;
    private readonly List<FakeConn> _connections = [];
    private readonly PendingCloses _pendingClose;
    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _posted = new();
    private SendQueue? _cork;
    private FakeConn? _corked;
    private byte[]? _receiveBuffer;
    private int _loopThreadId = Environment.CurrentManagedThreadId;
    private bool _shutdown;

    /// <summary>A fake loop that calls <paramref name="handler"/>.</summary>
    public FakeReactor(IConnectionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
        _pendingClose = new PendingCloses(handler);
    }

    /// <summary>Size of the receive buffer each read fills at most (64 KiB).</summary>
    public int ReceiveBufferSize { get; init; } = 64 * 1024;

    /// <summary>Size of the cork: writes during a callback gather here; a write that does not fit flushes it and
    /// goes straight to the underlying connection (512 KiB).</summary>
    public int SendBufferSize { get; init; } = 512 * 1024;

    /// <summary>Reading a connection pauses while more bytes than this wait for it (256 KiB).</summary>
    public int PauseReadingThreshold { get; init; } = 256 * 1024;

    /// <summary>A write that would make the waiting bytes exceed this aborts the connection (128 MiB).</summary>
    public long MaxBackpressure { get; init; } = 128L * 1024 * 1024;

    /// <summary>The fake clock in milliseconds, moved by <see cref="AdvanceTime"/>.</summary>
    public long Now { get; private set; }

    /// <summary>Connections registered and not closed yet.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>The handler-side connections that are open or closing, in registration order.</summary>
    public IReadOnlyList<IReactorConn> Connections => _connections;

    /// <summary>True once <see cref="Shutdown"/> ran.</summary>
    public bool IsShutDown => _shutdown;

    /// <inheritdoc/>
    public bool IsLoopThread => Environment.CurrentManagedThreadId == _loopThreadId;

    /// <summary>Registers <paramref name="conn"/> and calls OnOpen at once (on the calling thread).</summary>
    public void Register(INetConn conn) => Open(conn);

    /// <summary>Registers <paramref name="conn"/>, calls OnOpen, and returns the connection the handler sees.</summary>
    public IReactorConn Open(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        var fake = new FakeConn(this, conn);
        _connections.Add(fake);
        Callback(fake, CallbackKind.Open, default);
        DeliverCloses();
        return fake;
    }

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        _posted.Enqueue((action, state));
    }

    /// <summary>One loop turn: runs posted work, sends waiting bytes (then OnWritable), reads what every connection
    /// has (OnData, or OnClose at end of stream). Returns true when anything happened.</summary>
    public bool RunOnce()
    {
        _loopThreadId = Environment.CurrentManagedThreadId;
        bool progressed = false;
        while (_posted.TryDequeue(out var work))
        {
            work.Action(work.State);
            DeliverCloses();
            progressed = true;
        }

        foreach (FakeConn conn in _connections.ToArray())
        {
            if (conn.Waiting is not null)
                progressed |= Flush(conn);
            if (conn.State != FakeConnState.Closed)
                progressed |= ReadAvailable(conn);
            DeliverCloses();
        }

        return progressed;
    }

    /// <summary>Runs <see cref="RunOnce"/> until nothing happens (at most <paramref name="maxTurns"/> turns).</summary>
    public void RunUntilIdle(int maxTurns = 10_000)
    {
        for (int i = 0; i < maxTurns && RunOnce(); i++)
        {
        }
    }

    /// <summary>Moves the fake clock forward and calls OnTick with it.</summary>
    public void AdvanceTime(long milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds);
        Now += milliseconds;
        _handler.OnTick(Now);
        DeliverCloses();
    }

    /// <summary>Calls OnShutdown (once).</summary>
    public void Shutdown()
    {
        if (_shutdown)
            return;
        _shutdown = true;
        _handler.OnShutdown();
        DeliverCloses();
    }

    /// <summary>Turns the loop on the calling thread until cancelled, then shuts down and turns until every
    /// connection is closed or 5 s passed (the rest are aborted). Ticks follow the real clock.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        long lastTick = Environment.TickCount64;
        long drainDeadline = long.MaxValue;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested && !_shutdown)
            {
                Shutdown();
                drainDeadline = Environment.TickCount64 + 5000;
            }

            if (_shutdown && (_connections.Count == 0 || Environment.TickCount64 >= drainDeadline))
                break;
            if (!RunOnce())
                Thread.Sleep(1);
            long now = Environment.TickCount64;
            if (now - lastTick >= 1000)
            {
                AdvanceTime(now - lastTick);
                lastTick = now;
            }
        }

        foreach (FakeConn conn in _connections.ToArray())
            Finish(conn);
        DeliverCloses();
    }

    /// <summary>Aborts every connection that is left (without OnClose).</summary>
    public void Dispose()
    {
        foreach (FakeConn conn in _connections)
        {
            conn.State = FakeConnState.Closed;
            conn.Inner.Close();
        }

        _connections.Clear();
    }

    // ---- connection operations -------------------------------------------------------------------------------

    internal int Write(FakeConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.State != FakeConnState.Open || data.IsEmpty)
            return 0;
        if (conn == _corked && conn.Waiting is null)
        {
            SendQueue cork = _cork ??= new SendQueue(null);
            if (cork.Length + data.Length <= SendBufferSize)
            {
                cork.Append(data);
                return data.Length;
            }

            if (!FlushCork(conn))
                return 0;
        }

        return Send(conn, data) ? data.Length : 0;
    }

    internal void Close(FakeConn conn)
    {
        if (conn.State != FakeConnState.Open)
            return;
        conn.State = FakeConnState.Closing;
        if (conn != _corked && conn.Waiting is null)
            Finish(conn);
    }

    internal void Finish(FakeConn conn)
    {
        if (conn.State == FakeConnState.Closed)
            return;
        conn.State = FakeConnState.Closed;
        if (conn == _corked)
            _cork?.Clear();
        conn.Waiting?.Clear();
        conn.Waiting = null;
        conn.Inner.Close();
        _connections.Remove(conn);
        _pendingClose.Add(conn);
    }

    /// <summary>Writes to the underlying connection, keeping what it does not take. False when the connection
    /// ended (an error, or the backpressure limit).</summary>
    private bool Send(FakeConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.Waiting is null)
        {
            int sent = WriteInner(conn, data);
            if (sent < 0)
                return false;
            data = data[sent..];
            if (data.IsEmpty)
                return true;
        }

        if ((conn.Waiting?.Length ?? 0) + data.Length > MaxBackpressure)
        {
            Finish(conn);
            return false;
        }

        conn.Waiting ??= new SendQueue(null);
        conn.Waiting.Append(data);
        if (conn.Waiting.Length > PauseReadingThreshold)
            conn.ReadPaused = true;
        return true;
    }

    /// <summary>Writes until the underlying connection takes no more; -1 when it failed.</summary>
    private static int WriteInner(FakeConn conn, ReadOnlySpan<byte> data)
    {
        int total = 0;
        try
        {
            while (total < data.Length)
            {
                int n = conn.Inner.Write(data[total..]);
                if (n <= 0)
                    break;
                total += n;
            }
        }
        catch (IOException)
        {
            conn.Loop.Finish(conn);
            return -1;
        }

        return total;
    }

    private bool Flush(FakeConn conn)
    {
        SendQueue queue = conn.Waiting!;
        bool progressed = false;
        while (!queue.IsEmpty)
        {
            ReadOnlySpan<byte> first = queue.First;
            int sent = WriteInner(conn, first);
            if (sent < 0)
                return true;
            if (sent == 0)
                break;
            progressed = true;
            queue.Consume(sent);
            if (sent < first.Length)
                break;
        }

        if (!queue.IsEmpty)
            return progressed;
        queue.Clear();
        conn.Waiting = null;
        conn.ReadPaused = false;
        if (conn.State == FakeConnState.Closing)
            Finish(conn);
        else if (conn.State == FakeConnState.Open)
            Callback(conn, CallbackKind.Writable, default);
        return true;
    }

    private bool ReadAvailable(FakeConn conn)
    {
        if (conn.State == FakeConnState.Open && conn.ReadPaused)
            return false;
        byte[] buffer = _receiveBuffer ??= new byte[ReceiveBufferSize];
        bool progressed = false;
        while (conn.State != FakeConnState.Closed && !(conn.State == FakeConnState.Open && conn.ReadPaused))
        {
            int n;
            try
            {
                n = conn.Inner.Read(buffer);
            }
            catch (IOException)
            {
                n = 0;
            }

            if (n == NetConn.WouldBlock)
                break;
            progressed = true;
            if (n == 0)
            {
                Finish(conn);
                break;
            }

            if (conn.State == FakeConnState.Open)
                Callback(conn, CallbackKind.Data, buffer.AsSpan(0, n));
        }

        return progressed;
    }

    /// <summary>Runs a handler callback for <paramref name="conn"/> with its writes corked, then flushes them.</summary>
    private void Callback(FakeConn conn, CallbackKind kind, Span<byte> data)
    {
        _corked = conn;
        try
        {
            switch (kind)
            {
                case CallbackKind.Open:
                    _handler.OnOpen(conn);
                    break;
                case CallbackKind.Data:
                    _handler.OnData(conn, data);
                    break;
                case CallbackKind.Writable:
                    _handler.OnWritable(conn);
                    break;
            }
        }
        finally
        {
            _corked = null;
        }

        FlushCork(conn);
        if (conn.State == FakeConnState.Closing && conn.Waiting is null)
            Finish(conn);
    }

    /// <summary>Sends the cork's bytes for <paramref name="conn"/>; false when the connection ended.</summary>
    private bool FlushCork(FakeConn conn)
    {
        if (_cork is not { IsEmpty: false } cork)
            return conn.State != FakeConnState.Closed;
        while (!cork.IsEmpty && conn.State != FakeConnState.Closed)
        {
            ReadOnlySpan<byte> first = cork.First;
            int length = first.Length;
            if (!Send(conn, first))
                break;
            cork.Consume(length);
        }

        cork.Clear();
        return conn.State != FakeConnState.Closed;
    }

    private void DeliverCloses() => _pendingClose.Deliver();

    private enum CallbackKind : byte
    {
        Open,
        Data,
        Writable,
    }
}
