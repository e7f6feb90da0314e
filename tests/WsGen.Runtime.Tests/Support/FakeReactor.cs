using WsGen.Reactor;

namespace WsGen.Tests;

/// <summary>
/// A reactor without sockets, for tests of the layers above: it drives an <see cref="IConnectionHandler"/> over any
/// <see cref="INetConn"/> (typically one end of <see cref="WsGen.Transport.InMemoryConn.CreatePair"/>), one turn at a
/// time on the test's thread, through the same <see cref="ConnectionCore{TBackend}"/> as the real loops: corked
/// writes (in place, <see cref="WsGen.Transport.ICorkedOutput"/>), backpressure, graceful close and close delivery.
/// Time only moves with <see cref="AdvanceTime"/>.
/// </summary>
internal sealed class FakeReactor : LoopReactor<FakeBackend>
{
    private int _loopThreadId = Environment.CurrentManagedThreadId;
    private bool _shutdown;

    /// <summary>A fake loop that calls <paramref name="handler"/>, with <paramref name="options"/> or
    /// <see cref="DefaultOptions"/>.</summary>
    public FakeReactor(IConnectionHandler handler, ReactorOptions? options = null)
        : base(handler, options ??= DefaultOptions, new FakeBackend(options))
    {
    }

    /// <summary>The reactor defaults, with reads of 64 KiB at most.</summary>
    public static ReactorOptions DefaultOptions { get; } = new() { ReceiveBufferSize = 64 * 1024 };

    /// <summary>Size of the receive buffer each read fills at most.</summary>
    public int ReceiveBufferSize => Core.Options.ReceiveBufferSize;

    /// <summary>Reading a connection pauses while more bytes than this wait for it.</summary>
    public int PauseReadingThreshold => Core.Options.PauseReadingThreshold;

    /// <summary>The fake clock in milliseconds, moved by <see cref="AdvanceTime"/>.</summary>
    public long Now { get; private set; }

    /// <summary>The handler-side connections that are open or closing, in registration order.</summary>
    public IReadOnlyList<IReactorConn> Connections => Core.Backend.State.Connections;

    /// <summary>True once <see cref="Shutdown"/> ran.</summary>
    public bool IsShutDown => _shutdown;

    /// <summary>True on the thread that runs it, or else on the thread that created the reactor or last ran a turn.</summary>
    public override bool IsLoopThread => Core.IsRunning ? Core.IsLoopThread : Environment.CurrentManagedThreadId == _loopThreadId;

    /// <summary>Registers <paramref name="conn"/> and calls OnOpen at once (on the calling thread), or, while the
    /// loop runs, at its next turn.</summary>
    public override void Register(INetConn conn)
    {
        if (Core.IsRunning)
            base.Register(conn);
        else
            Open(conn);
    }

    /// <summary>Registers <paramref name="conn"/>, calls OnOpen, and returns the connection the handler sees.</summary>
    public IReactorConn Open(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        IReactorConn? opened = Core.Backend.Add(Core, conn);
        Core.DeliverCloses();
        return opened ?? throw new InvalidOperationException("The fake backend refused the connection.");
    }

    /// <summary>One turn: posted work, then every connection's waiting bytes and input. True when anything moved.</summary>
    public bool RunOnce()
    {
        _loopThreadId = Environment.CurrentManagedThreadId;
        Core.Backend.State.Progressed = false;
        bool posted = Core.RunOnce();
        return posted || Core.Backend.State.Progressed;
    }

    /// <summary>Turns until nothing moves (at most <paramref name="maxTurns"/>).</summary>
    public void RunUntilIdle(int maxTurns = 10_000)
    {
        for (int i = 0; i < maxTurns && RunOnce(); i++)
        {
        }
    }

    /// <summary>Moves the clock and calls OnTick with the new time.</summary>
    public void AdvanceTime(long milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds);
        Now += milliseconds;
        Core.Tick(Now);
    }

    /// <summary>Begins the shutdown (OnShutdown), once.</summary>
    public void Shutdown()
    {
        if (_shutdown)
            return;
        _shutdown = true;
        Core.Shutdown();
    }
}
