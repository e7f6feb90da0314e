using System.Collections.Concurrent;

namespace WsGen.Reactor;

/// <summary>The backend behind a <see cref="LoopCore{TConn}"/>: waiting for events, the wake-up, accepting and
/// the steps before and after the loop's turns.</summary>
/// <remarks>The core calls it a few times per loop turn and per registration, never per event or message.</remarks>
internal interface ILoopHost
{
    /// <summary>Connections the loop holds, including those closing.</summary>
    int ConnectionCount { get; }

    /// <summary>On the loop thread, before the first turn: what the backend sets up there. An exception ends
    /// <see cref="LoopCore{TConn}.Run"/>.</summary>
    void Starting();

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for events and handles each one, calling
    /// <see cref="ConnectionLifecycle{TConn}.DeliverCloses"/> after each.</summary>
    void WaitAndHandle(int timeoutMilliseconds);

    /// <summary>Wakes a loop blocked in <see cref="WaitAndHandle"/>; called from any thread. The backend calls
    /// <see cref="LoopCore{TConn}.WakeConsumed"/> when it sees the wake-up.</summary>
    void Signal();

    /// <summary>The turn's work is done and the loop is about to wait: sends the writes gathered during the turn
    /// (one send per connection) and delivers the closes that caused.</summary>
    void EndTurn();

    /// <summary>The pause begun with <see cref="LoopCore{TConn}.PauseAccepting"/> is over: accept again.</summary>
    void ResumeAccepting();

    /// <summary>The turns ended because the loop stopped (not by an exception): finishes the connections that are
    /// left (<see cref="ConnectionLifecycle{TConn}.AbortAll(ConnectionTable{TConn})"/>) and whatever else the backend
    /// does last.</summary>
    void Stopped();

    /// <summary>On the loop thread, outside any handler callback: adds the connection given to
    /// <see cref="LoopCore{TConn}.Register"/>.</summary>
    void RegisterOnLoop(object state);

    /// <summary>A registration that will never run (the loop was disposed): closes its socket.</summary>
    void DropRegistration(object state);
}

/// <summary>
/// The plumbing every reactor loop shares around its backend: one <see cref="Run"/> at a time on one thread, the
/// loop's turns (wait for events, run posted work, tick, sweep closing connections, resume accepting), posted work
/// and the wake-up that goes with it, the accept pause, and the checks of <see cref="IDisposable.Dispose"/>.
/// </summary>
/// <remarks>
/// <para>A turn: stop when <see cref="ConnectionLifecycle{TConn}.ShouldStop"/> says so; otherwise
/// <see cref="ILoopHost.EndTurn"/> (what the turn before and the stop check wrote goes out before the wait), then
/// <see cref="ILoopHost.WaitAndHandle"/> (no wait while work is posted, and no longer than the next tick, the
/// lifecycle's deadlines and the end of an accept pause); up to <see cref="MaxPostedPerTurn"/> posted items, the
/// closes they caused delivered after each; <see cref="IConnectionHandler.OnTick"/> once a second, then its closes;
/// the sweep of closing connections; the end of an accept pause. Once stopped, <see cref="ILoopHost.Stopped"/>.</para>
/// <para>The host is called through an interface, a few times per turn; nothing here allocates per turn or per
/// event. A <see cref="Post"/> signals the backend only when no wake-up is pending yet.</para>
/// </remarks>
/// <typeparam name="TConn">The loop's connection type.</typeparam>
internal sealed class LoopCore<TConn>
    where TConn : class, ILifecycleConn
{
    /// <summary>How often <see cref="IConnectionHandler.OnTick"/> runs, and the longest a loop waits for events.</summary>
    internal const int TickMilliseconds = 1000;

    /// <summary>How long accepting pauses after the process ran out of descriptors or memory.</summary>
    internal const int AcceptBackoffMilliseconds = 100;

    /// <summary>The most posted items one turn runs, so that a flood of posts does not starve the sockets.</summary>
    internal const int MaxPostedPerTurn = 4096;

    private readonly IConnectionHandler _handler;
    private readonly ConnectionLifecycle<TConn> _lifecycle;
    private readonly ILoopHost _host;
    private readonly ConcurrentQueue<PostedWork> _posted = new();
    private readonly Action<object?> _registerOnLoop;

    private int _loopThreadId;
    private int _running;
    private int _wakePending;
    private long _acceptResumeAt;
    private bool _acceptPaused;
    private int _acceptPauses;
    private bool _disposed;

    /// <summary>The core of a loop that calls <paramref name="handler"/>, keeps its connections' life cycle in
    /// <paramref name="lifecycle"/> and has <paramref name="host"/> as its backend.</summary>
    internal LoopCore(IConnectionHandler handler, ConnectionLifecycle<TConn> lifecycle, ILoopHost host)
    {
        _handler = handler;
        _lifecycle = lifecycle;
        _host = host;
        _registerOnLoop = RegisterOnLoop;
    }

    /// <summary>True on the thread inside <see cref="Run"/>.</summary>
    internal bool IsLoopThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _loopThreadId);

    /// <summary>The managed id of the thread inside <see cref="Run"/>, 0 while it does not run. A plain read, for
    /// the checks on the loops' write paths.</summary>
    internal int LoopThreadId => _loopThreadId;

    /// <summary>True when another thread than the loop's calls while <see cref="Run"/> runs. A loop's connections
    /// are written on its thread only; before Run and after it returned, any thread may.</summary>
    internal bool IsOtherThreadWhileRunning
    {
        get
        {
            int loopThreadId = _loopThreadId;
            return loopThreadId != 0 && loopThreadId != Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>True while <see cref="Run"/> runs.</summary>
    internal bool IsRunning => Volatile.Read(ref _running) != 0;

    /// <summary>True once <see cref="TryBeginDispose"/> succeeded.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed);

    /// <summary>True while accepting pauses (see <see cref="PauseAccepting"/>).</summary>
    internal bool AcceptPaused => _acceptPaused;

    /// <summary>How many accept pauses began (see <see cref="PauseAccepting"/>); read from any thread, for tests.</summary>
    internal int AcceptPauses => Volatile.Read(ref _acceptPauses);

    private static long Now => Environment.TickCount64;

    // ---- running ------------------------------------------------------------------------------------------------

    /// <summary>Runs the loop's turns on the calling thread until the loop stops (see the remarks). Throws when
    /// the loop is disposed or already running.</summary>
    internal void Run(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, _host);
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException("The loop is already running.");
        Volatile.Write(ref _loopThreadId, Environment.CurrentManagedThreadId);
        using var registration = cancellationToken.UnsafeRegister(static s => ((LoopCore<TConn>)s!).Wake(), this);
        try
        {
            _host.Starting();
            long now = Now;
            long nextTick = now + TickMilliseconds;
            while (!_lifecycle.ShouldStop(now, _host.ConnectionCount, cancellationToken))
            {
                _host.EndTurn();
                _host.WaitAndHandle(WaitTimeout(now, nextTick));
                RunPosted();
                now = Now;
                if (now >= nextTick)
                {
                    nextTick = now + TickMilliseconds;
                    _handler.OnTick(now);
                    _lifecycle.DeliverCloses();
                }

                _lifecycle.SweepIfDue(now);
                if (_acceptPaused && now >= _acceptResumeAt)
                {
                    _acceptPaused = false;
                    _host.ResumeAccepting();
                }
            }

            _host.Stopped();
        }
        finally
        {
            Volatile.Write(ref _loopThreadId, 0);
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Milliseconds the next wait may last: 0 while work is posted, otherwise until the next tick, bounded
    /// by the lifecycle's deadlines and the end of an accept pause.</summary>
    private int WaitTimeout(long now, long nextTick)
    {
        if (!_posted.IsEmpty)
            return 0;
        long timeout = _lifecycle.LimitWait(now, nextTick - now);
        if (_acceptPaused)
            timeout = Math.Min(timeout, _acceptResumeAt - now);
        return (int)Math.Clamp(timeout, 0, TickMilliseconds);
    }

    // ---- posted work and the wake-up ----------------------------------------------------------------------------

    /// <summary>Queues <paramref name="action"/> to run on the loop thread and wakes the loop. After
    /// <see cref="TryBeginDispose"/> nothing will run it: it is dropped (a registration's socket is closed), also
    /// when the dispose races with this call.</summary>
    internal void Post(Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (IsDisposed)
        {
            Drop(new PostedWork(action, state));
            return;
        }

        _posted.Enqueue(new PostedWork(action, state));
        if (IsDisposed)
        {
            // Dispose ran between the check above and the enqueue, so its drain may have missed this item:
            // drain again. Dequeuing is atomic, so every item is dropped once, here or by Dispose.
            DropPosted();
            return;
        }

        Wake();
    }

    /// <summary>Hands <paramref name="state"/> to <see cref="ILoopHost.RegisterOnLoop"/> as posted work, also when
    /// called on the loop thread, so that a registration never runs inside a handler callback.</summary>
    internal void Register(object state) => Post(_registerOnLoop, state);

    /// <summary>Wakes the loop unless a wake-up is already pending; from any thread.</summary>
    internal void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
            _host.Signal();
    }

    /// <summary>The backend saw the wake-up: the next <see cref="Wake"/> signals again.</summary>
    internal void WakeConsumed() => Volatile.Write(ref _wakePending, 0);

    /// <summary>Runs up to <see cref="MaxPostedPerTurn"/> posted items, delivering the closes each caused; returns
    /// how many ran.</summary>
    internal int RunPosted()
    {
        int ran = 0;
        while (ran < MaxPostedPerTurn && _posted.TryDequeue(out PostedWork work))
        {
            work.Action(work.State);
            _lifecycle.DeliverCloses();
            ran++;
        }

        return ran;
    }

    private void RegisterOnLoop(object? state) => _host.RegisterOnLoop(state!);

    private void Drop(in PostedWork work)
    {
        if (work.Action == _registerOnLoop)
            _host.DropRegistration(work.State!);
    }

    // ---- accepting ----------------------------------------------------------------------------------------------

    /// <summary>Starts a pause of <see cref="AcceptBackoffMilliseconds"/>, after which the loop calls
    /// <see cref="ILoopHost.ResumeAccepting"/>.</summary>
    internal void PauseAccepting()
    {
        _acceptPaused = true;
        _acceptResumeAt = Now + AcceptBackoffMilliseconds;
        Volatile.Write(ref _acceptPauses, _acceptPauses + 1);
    }

    /// <summary>Ends an accept pause early: the backend accepts again already.</summary>
    internal void ClearAcceptPause() => _acceptPaused = false;

    // ---- listening and disposing --------------------------------------------------------------------------------

    /// <summary>Throws unless a listener may be added: the loop is neither disposed nor shutting down.</summary>
    internal void EnsureCanListen()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, _host);
        if (_lifecycle.ShuttingDown)
            throw new InvalidOperationException("The loop is shutting down.");
    }

    /// <summary>Marks the loop disposed: false when it already was, and throws while <see cref="Run"/> runs. The
    /// caller then releases its resources and calls <see cref="DropPosted"/>.</summary>
    internal bool TryBeginDispose()
    {
        if (_disposed)
            return false;
        if (IsRunning)
            throw new InvalidOperationException("Dispose the reactor after Run returned.");
        // A full fence, not a plain write: Post enqueues and then reads the flag, and Dispose sets the flag and then
        // drains the queue; with a fence on both sides one of them sees the other.
        Interlocked.Exchange(ref _disposed, true);
        return true;
    }

    /// <summary>Empties the posted queue of a disposed loop: closes the sockets of registrations that never ran.</summary>
    internal void DropPosted()
    {
        while (_posted.TryDequeue(out PostedWork work))
            Drop(in work);
    }

    private readonly record struct PostedWork(Action<object?> Action, object? State);
}
