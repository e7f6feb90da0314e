namespace WsGen.Reactor;

/// <summary>What <see cref="ConnectionLifecycle{TConn}"/> reads and writes on a loop's connection.</summary>
/// <remarks>The connections implement it explicitly over their own fields, so that the loops keep plain field
/// access on their hot paths.</remarks>
internal interface ILifecycleConn : INetConn
{
    /// <summary>Where the connection is in its life cycle.</summary>
    LoopConnState State { get; set; }
}

/// <summary>The loop behind a <see cref="ConnectionLifecycle{TConn}"/>: what only the loop itself can do.</summary>
/// <typeparam name="TConn">The loop's connection type.</typeparam>
internal interface ILifecycleHost<in TConn>
{
    /// <summary>Closes <paramref name="conn"/> now and queues its close with
    /// <see cref="ConnectionLifecycle{TConn}.QueueClose"/>; nothing when it is already closed.</summary>
    void Finish(TConn conn);

    /// <summary>Closes every listener.</summary>
    void CloseListeners();
}

/// <summary>
/// The connection-lifecycle bookkeeping every reactor loop shares: the connections whose
/// <see cref="IConnectionHandler.OnClose"/> is due, the connections closing gracefully with their deadlines, and
/// the loop's shutdown (drain deadline, abort of the rest).
/// </summary>
/// <remarks>
/// <para>Used on the loop thread only. <see cref="IConnectionHandler.OnClose"/> runs exactly once per connection
/// (a connection is queued once, by the loop's <see cref="ILifecycleHost{TConn}.Finish"/>, which ignores closed
/// connections), in the order the connections ended, and never inside another handler callback: the loop calls
/// <see cref="DeliverCloses"/> after each callback returns, and a call made from within
/// <see cref="IConnectionHandler.OnClose"/> itself returns at once (the running delivery picks up what was queued
/// meanwhile).</para>
/// <para>Nothing here allocates once the lists have grown to the loop's working size; the host is called through
/// an interface, never through a delegate.</para>
/// </remarks>
/// <typeparam name="TConn">The loop's connection type.</typeparam>
internal sealed class ConnectionLifecycle<TConn>
    where TConn : class, ILifecycleConn
{
    /// <summary>How often the closing connections are checked against their deadlines, and the longest a loop
    /// waits for events while connections are closing or the loop drains.</summary>
    internal const int SweepMilliseconds = 50;

    private readonly IConnectionHandler _handler;
    private readonly ReactorOptions _options;
    private readonly ILifecycleHost<TConn> _host;
    private readonly PendingCloses _pendingClose;
    private readonly List<Deadline> _closing = [];
    private bool _shuttingDown;
    private long _drainDeadline;
    private long _nextSweep;

    /// <summary>Bookkeeping for a loop that calls <paramref name="handler"/> with (validated)
    /// <paramref name="options"/> and closes connections through <paramref name="host"/>.</summary>
    internal ConnectionLifecycle(IConnectionHandler handler, ReactorOptions options, ILifecycleHost<TConn> host)
    {
        _handler = handler;
        _pendingClose = new PendingCloses(handler);
        _options = options;
        _host = host;
    }

    /// <summary>True once the loop was asked to stop.</summary>
    internal bool ShuttingDown => _shuttingDown;

    // ---- closing ------------------------------------------------------------------------------------------------

    /// <summary>Starts the graceful close of an open connection: it becomes <see cref="LoopConnState.Closing"/>
    /// with the linger deadline and is swept from now on. False (and nothing changes) when it was not open.</summary>
    internal bool TryBeginClose(TConn conn, long now)
    {
        if (conn.State != LoopConnState.Open)
            return false;
        conn.State = LoopConnState.Closing;
        _closing.Add(new Deadline(conn, LoopConnState.Closing, now + (long)_options.LingerTimeout.TotalMilliseconds));
        return true;
    }

    /// <summary>The sending side of <paramref name="conn"/> is shut down: it lingers, with a fresh linger
    /// deadline, until the peer's end of stream.</summary>
    internal void BeginLinger(TConn conn, long now)
    {
        conn.State = LoopConnState.Lingering;
        _closing.Add(new Deadline(conn, LoopConnState.Lingering, now + (long)_options.LingerTimeout.TotalMilliseconds));
    }

    /// <summary>Queues <see cref="IConnectionHandler.OnClose"/> for a connection the loop just finished.</summary>
    internal void QueueClose(TConn conn) => _pendingClose.Add(conn);

    /// <summary>Calls <see cref="IConnectionHandler.OnClose"/> for the connections that ended, outside any other
    /// callback. Connections that end during delivery are delivered in the same pass.</summary>
    internal void DeliverCloses() => _pendingClose.Deliver();

    /// <summary>Every <see cref="SweepMilliseconds"/> while connections are closing: finishes those whose flush
    /// or linger deadline passed, forgets deadlines of phases a connection has left and delivers the closes.</summary>
    internal void SweepIfDue(long now)
    {
        if (_closing.Count == 0 || now < _nextSweep)
            return;
        _nextSweep = now + SweepMilliseconds;
        int kept = 0;
        for (int i = 0; i < _closing.Count; i++)
        {
            Deadline deadline = _closing[i];
            TConn conn = deadline.Conn;
            if (conn.State != deadline.Phase)
                continue;
            if (now >= deadline.At)
                _host.Finish(conn);
            else
                _closing[kept++] = deadline;
        }

        _closing.RemoveRange(kept, _closing.Count - kept);
        DeliverCloses();
    }

    // ---- shutdown -----------------------------------------------------------------------------------------------

    /// <summary>Called once per loop turn: begins the shutdown when <paramref name="cancellationToken"/> asks for
    /// it (closes the listeners, calls <see cref="IConnectionHandler.OnShutdown"/>, starts the drain deadline),
    /// and returns true when the loop should stop: it is shutting down and no connection is left or the drain
    /// deadline passed.</summary>
    internal bool ShouldStop(long now, int connectionCount, CancellationToken cancellationToken)
    {
        if (!_shuttingDown && cancellationToken.IsCancellationRequested)
            BeginShutdown(now);
        return _shuttingDown && (connectionCount == 0 || now >= _drainDeadline);
    }

    /// <summary>Finishes every connection still in <paramref name="connections"/> and delivers the closes.</summary>
    internal void AbortAll(ConnectionTable<TConn> connections)
    {
        connections.ForEach(_host, static (host, conn) => host.Finish(conn));
        DeliverCloses();
    }

    /// <summary>Finishes every connection in <paramref name="connections"/> (null entries are skipped) and delivers
    /// the closes.</summary>
    internal void AbortAll(ReadOnlySpan<TConn?> connections)
    {
        foreach (TConn? conn in connections)
        {
            if (conn is not null)
                _host.Finish(conn);
        }

        DeliverCloses();
    }

    /// <summary>Bounds <paramref name="timeout"/> (milliseconds the loop would wait for events) so that deadline
    /// sweeps and the drain deadline are not missed; 0 while closes wait to be delivered.</summary>
    internal long LimitWait(long now, long timeout)
    {
        if (_pendingClose.Any)
            return 0;
        if (_closing.Count > 0)
            timeout = Math.Min(timeout, SweepMilliseconds);
        if (_shuttingDown)
            timeout = Math.Min(timeout, Math.Min(SweepMilliseconds, _drainDeadline - now));
        return timeout;
    }

    internal void BeginShutdown(long now)
    {
        _shuttingDown = true;
        _drainDeadline = now + (long)_options.DrainTimeout.TotalMilliseconds;
        _host.CloseListeners();
        _handler.OnShutdown();
        DeliverCloses();
    }

    /// <summary>When the loop gives up on <see cref="Conn"/> in <see cref="Phase"/> (flushing or lingering) and
    /// closes it. Kept here rather than on the connection, which then spends no bytes on it while open.</summary>
    private readonly record struct Deadline(TConn Conn, LoopConnState Phase, long At);
}
