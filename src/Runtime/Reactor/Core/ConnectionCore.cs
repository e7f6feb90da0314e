using System.Net;
using System.Runtime.InteropServices;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The one connection state machine every loop runs: the connection table, the shared receive buffer, handing input
/// to the handler, corked output, backpressure, the send queue, graceful close with linger and close delivery. A
/// backend (<typeparamref name="TBackend"/>: io_uring, epoll, kqueue, IOCP, the portable sockets loop, or the fake in
/// tests) supplies only its system calls; the loop's turns, posted work and shutdown are
/// <see cref="LoopCore{TConn}"/>'s and <see cref="ConnectionLifecycle{TConn}"/>'s.
/// </summary>
/// <remarks>
/// <para>Reading: a readiness event (<see cref="Readable"/>) reads the socket into the loop's receive buffer, a few
/// times while it comes back full; a completion backend hands over what the kernel read (<see cref="Received"/>).
/// Either way the bytes go to <see cref="IConnectionHandler.OnData"/>. Input that arrives while reading is paused is
/// held and delivered, in order, once it resumes.</para>
/// <para>Writing: while a callback runs for connection X, writes to X gather in the loop's cork buffer and go out
/// with one send when the callback returns. Writes to another connection gather in the loop's gather buffer and go
/// out with one send per connection at the end of the turn (see <see cref="ILoopHost.EndTurn"/>). What a socket
/// does not take waits, in order, in a pooled per-connection <see cref="SendQueue"/> and goes out as the socket
/// takes more; then <see cref="IConnectionHandler.OnWritable"/> runs. While more than
/// <see cref="ReactorOptions.PauseReadingThreshold"/> bytes wait the connection is not read; a write that would make
/// them exceed <see cref="ReactorOptions.MaxBackpressure"/> aborts it.</para>
/// <para>Closing: <see cref="INetConn.Close"/> flushes, shuts down the sending side, discards input until the peer's
/// end of stream or <see cref="ReactorOptions.LingerTimeout"/>, then closes. A peer's end of stream or a socket error
/// closes an open connection at once. <see cref="IConnectionHandler.OnClose"/> runs once, after the callback in which
/// the connection ended.</para>
/// <para>Handler exceptions are not caught: they end <see cref="Run"/>.</para>
/// </remarks>
/// <typeparam name="TBackend">The platform's system calls.</typeparam>
internal sealed unsafe partial class ConnectionCore<TBackend> : IServerReactor, ILoopHost, ILifecycleHost<LoopConnection<TBackend>>, ITransformHost
    where TBackend : struct, ILoopBackend<TBackend>
{
    private const int MaxReadsPerEvent = 4;
    private const int MaxAcceptsPerEvent = 256;

    private readonly IConnectionHandler _handler;
    private readonly ConnectionLifecycle<LoopConnection<TBackend>> _lifecycle;
    private readonly LoopCore<LoopConnection<TBackend>> _loop;
    private readonly ConnectionTable<LoopConnection<TBackend>> _connections = new();
    private readonly Stack<SendQueue> _spareQueues = new();
    private readonly Dictionary<LoopConnection<TBackend>, SendQueue> _held = [];
    private readonly Dictionary<LoopConnection<TBackend>, IByteTransform> _transforms = [];
    private readonly PeerAddresses _peers = new();
    private readonly List<Func<IReactorConn, IByteTransform>?> _listenerTransforms = [];
    private readonly List<IPEndPoint> _listenerEndPoints = [];
    private readonly ByteGauge _backpressure = new();
    private readonly byte* _receiveBuffer;
    private readonly int _receiveSize;
    private readonly int _corkSize;
    private TBackend _backend;
    private byte* _cork;
    private LoopConnection<TBackend>? _corked;
    private int _corkLength;
    private int _connectionCount;

    /// <summary>A loop that calls <paramref name="handler"/> with <paramref name="options"/> (validated here) over
    /// <paramref name="backend"/>.</summary>
    internal ConnectionCore(IConnectionHandler handler, ReactorOptions options, TBackend backend)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options.Validate();
        Options = options;
        _handler = handler;
        _backend = backend;
        _lifecycle = new ConnectionLifecycle<LoopConnection<TBackend>>(handler, options, this);
        _loop = new LoopCore<LoopConnection<TBackend>>(handler, _lifecycle, this);
        _receiveSize = options.ReceiveBufferSize;
        _corkSize = backend.CorkSize;
        _receiveBuffer = (byte*)NativeMemory.Alloc((nuint)_receiveSize);
        _cork = (byte*)NativeMemory.Alloc((nuint)_corkSize);
    }

    /// <summary>The loop's options (validated).</summary>
    internal ReactorOptions Options { get; }

    /// <summary>The backend, by reference (backends keep their state in it).</summary>
    internal ref TBackend Backend => ref _backend;

    /// <summary>True once the loop was asked to stop.</summary>
    internal bool ShuttingDown => _lifecycle.ShuttingDown;

    /// <summary>True while accepting pauses after the process ran out of descriptors or memory.</summary>
    internal bool AcceptPaused => _loop.AcceptPaused;

    /// <summary>How many accept pauses began; read from any thread, for tests.</summary>
    internal int AcceptPauses => _loop.AcceptPauses;

    /// <summary>True while <see cref="Run"/> runs.</summary>
    internal bool IsRunning => _loop.IsRunning;

    /// <inheritdoc/>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <inheritdoc/>
    public bool IsLoopThread => _loop.IsLoopThread;

    private static long Now => Environment.TickCount64;

    // ---- IServerReactor -------------------------------------------------------------------------------------

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint, Func<IReactorConn, IByteTransform>? transform = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        _loop.EnsureCanListen();
        // Backends number their listeners in the order they were opened, as this list does.
        lock (_listenerTransforms)
        {
            _listenerTransforms.Add(transform);
            try
            {
                IPEndPoint bound = _backend.Listen(this, endPoint);
                _listenerEndPoints.Add(bound);
                return bound;
            }
            catch
            {
                _listenerTransforms.RemoveAt(_listenerTransforms.Count - 1);
                throw;
            }
        }
    }

    /// <inheritdoc/>
    public void Register(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        _loop.Register(_backend.TakeOver(conn));
    }

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state) => _loop.Post(action, state);

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken) => _loop.Run(cancellationToken);

    /// <summary>Closes the listeners, every remaining socket (without callbacks) and the backend.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose()
    {
        if (!_loop.TryBeginDispose())
            return;
        _backend.CloseListeners();
        _connections.ForEach(this, static (core, conn) =>
        {
            core._backend.CloseAtDispose(conn);
            conn.State = LoopConnState.Closed;
            core.ReleaseQueues(conn);
        });

        _connections.Clear();
        _loop.DropPosted();
        _backend.Dispose();
        while (_spareQueues.TryPop(out SendQueue? queue))
            queue.Clear();
        NativeMemory.Free(_receiveBuffer);
        NativeMemory.Free(_cork);
        FreeGatherBuffer();
    }

    // ---- what backends call -----------------------------------------------------------------------------------

    /// <summary>The connection in <paramref name="slot"/>, or null.</summary>
    internal LoopConnection<TBackend>? Lookup(int slot) => _connections[slot];

    /// <summary>Adds a connected non-blocking socket in <paramref name="slot"/>, starts serving it and calls
    /// <see cref="IConnectionHandler.OnOpen"/>. <paramref name="listener"/> is the number of the listener that accepted
    /// it (listeners are numbered from 0 in the order they were opened; -1 for a connection given to
    /// <see cref="Register"/>): the listener's byte transform, if it has one, is attached before OnOpen.
    /// <paramref name="peer"/> is the remote address the accept reported (default: unknown), kept beside the
    /// connection for <see cref="RemoteEndPoint"/>. Returns null when the backend could not serve it (its socket is
    /// then closed).</summary>
    internal LoopConnection<TBackend>? Add(int handle, int slot, int listener, PeerAddress peer, ConnFlags flags = ConnFlags.None, uint generation = 0)
    {
        var conn = new LoopConnection<TBackend>(this, handle, slot) { Flags = flags, Generation = generation };
        _connections[slot] = conn;
        _peers.Set(slot, peer);
        _connectionCount++;
        if (!_backend.Open(this, conn))
        {
            conn.State = LoopConnState.Closed;
            _connectionCount--;
            _backend.Close(this, conn);
            return null;
        }

        if (TransformOf(listener) is { } transform)
        {
            _transforms[conn] = transform(conn);
            conn.Flags |= ConnFlags.Transformed;
        }

        _corked = conn;
        _handler.OnOpen(conn);
        Uncork(conn);
        UpdateInterest(conn);
        return conn;
    }

    private Func<IReactorConn, IByteTransform>? TransformOf(int listener)
    {
        if (listener < 0)
            return null;
        lock (_listenerTransforms)
            return listener < _listenerTransforms.Count ? _listenerTransforms[listener] : null;
    }

    /// <summary>The remote address of <paramref name="conn"/> as its accept reported it. On the loop thread, while
    /// the connection holds its slot.</summary>
    internal PeerAddress RemoteAddress(LoopConnection<TBackend> conn) => _peers.Get(conn.Slot);

    /// <summary>A new endpoint for the remote address of <paramref name="conn"/>, or null when it is unknown.</summary>
    internal System.Net.IPEndPoint? RemoteEndPoint(LoopConnection<TBackend> conn) => RemoteAddress(conn).ToEndPoint();

    /// <summary>The local endpoint of the listener that accepted <paramref name="conn"/>, as it was bound (a wildcard
    /// address stays one): the first listener with a byte transform for a connection that has one, the first without
    /// for one that has none (a server opens at most one of each on a loop). Null when there is no such listener.</summary>
    internal IPEndPoint? LocalEndPoint(LoopConnection<TBackend> conn)
    {
        bool transformed = conn.Has(ConnFlags.Transformed);
        lock (_listenerTransforms)
        {
            for (int i = 0; i < _listenerEndPoints.Count; i++)
            {
                if (_listenerTransforms[i] is not null == transformed)
                    return _listenerEndPoints[i];
            }
        }

        return null;
    }

    /// <summary>Frees the table slot of a closed connection: the backend no longer refers to it.</summary>
    internal void ReleaseSlot(LoopConnection<TBackend> conn)
    {
        if (_connections[conn.Slot] == conn)
            _connections[conn.Slot] = null;
    }

    /// <summary>Calls <see cref="IConnectionHandler.OnClose"/> for the connections that ended, outside any other
    /// callback. Backends call it after each event they report.</summary>
    internal void DeliverCloses() => _lifecycle.DeliverCloses();

    /// <summary>The backend saw the wake-up: the next <see cref="Post"/> signals again.</summary>
    internal void WakeConsumed() => _loop.WakeConsumed();

    /// <summary>Wakes the loop unless a wake-up is pending already; from any thread (a backend whose completions
    /// arrive on other threads).</summary>
    internal void Wake() => _loop.Wake();

    /// <summary>True once the loop was disposed: nothing will handle what arrives later.</summary>
    internal bool IsDisposed => _loop.IsDisposed;

    /// <summary>Accepts the pending connections of a readable listener through
    /// <see cref="ILoopBackend{TSelf}.TryAccept"/> (readiness backends), each into the slot the backend gives it.</summary>
    internal void AcceptAll(int listener)
    {
        for (int i = 0; i < MaxAcceptsPerEvent; i++)
        {
            int handle;
            PeerAddress peer;
            try
            {
                if (!_backend.TryAccept(listener, out handle, out peer))
                    return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Out of descriptors or memory. A level-triggered poller would report the listener again at once,
                // so stop accepting for a moment; the pending connections wait in the backlog.
                PauseAccepting();
                return;
            }

            Add(handle, _backend.SlotFor(handle), listener, peer);
            DeliverCloses();
        }
    }

    /// <summary>Stops accepting for <see cref="LoopCore{TConn}.AcceptBackoffMilliseconds"/>, after which the loop
    /// calls <see cref="ILoopBackend{TSelf}.SetAccepting"/> with true.</summary>
    internal void PauseAccepting()
    {
        _backend.SetAccepting(this, false);
        _loop.PauseAccepting();
    }

    /// <summary>Ends an accept pause early: the backend accepts again already.</summary>
    internal void ClearAcceptPause() => _loop.ClearAcceptPause();

    /// <summary>An empty send queue, from the loop's spares.</summary>
    internal SendQueue RentQueue() => _spareQueues.Count > 0 ? _spareQueues.Pop() : new SendQueue(Options.BackpressurePool, _backpressure);

    /// <summary>Bytes waiting in the loop's send queues (output the sockets have not taken, and input held while
    /// reading is paused); any thread may read it.</summary>
    public long BackpressureBytes => _backpressure.Bytes;

    /// <summary>Aborts <paramref name="conn"/> because its waiting bytes would exceed
    /// <see cref="ReactorOptions.MaxBackpressure"/> (see <see cref="IReactorConn.Overflowed"/>).</summary>
    private void Overflow(LoopConnection<TBackend> conn)
    {
        conn.Flags |= ConnFlags.Overflowed;
        Finish(conn);
    }

    /// <summary>Empties <paramref name="queue"/> and keeps it for the next backpressure episode.</summary>
    internal void ReturnQueue(SendQueue queue)
    {
        queue.Clear();
        _spareQueues.Push(queue);
    }

    /// <summary>Asks the backend for what <paramref name="conn"/> needs now (see <see cref="WantsInput"/>).</summary>
    internal void UpdateInterest(LoopConnection<TBackend> conn)
    {
        if (conn.State != LoopConnState.Closed)
            _backend.UpdateInterest(this, conn);
    }

    /// <summary>True when <paramref name="conn"/> should be read: open, not paused and holding no input; or closing
    /// and the peer's end of stream not seen yet.</summary>
    internal static bool WantsInput(LoopConnection<TBackend> conn) => conn.State switch
    {
        LoopConnState.Open => (conn.Flags & (ConnFlags.ReadPaused | ConnFlags.InputEnded | ConnFlags.Holding)) == 0,
        LoopConnState.Closed => false,
        _ => !conn.PeerClosed,
    };

    // ---- ILoopHost and ILifecycleHost -------------------------------------------------------------------------

    void ILoopHost.Starting() => _backend.Starting(this);

    void ILoopHost.WaitAndHandle(int timeoutMilliseconds) => _backend.Poll(this, timeoutMilliseconds);

    void ILoopHost.Signal() => _backend.Signal();

    void ILoopHost.ResumeAccepting() => _backend.SetAccepting(this, true);

    void ILoopHost.Stopped()
    {
        FlushGathered();    // what the last turn wrote goes out before the connections are aborted
        _lifecycle.AbortAll(_connections);
        _backend.Stopped(this);
    }

    void ILoopHost.RegisterOnLoop(object state)
    {
        if (_lifecycle.ShuttingDown)
            _backend.DropTakenOver(state);
        else
            _backend.AddTakenOver(this, state);
    }

    void ILoopHost.DropRegistration(object state) => _backend.DropTakenOver(state);

    void ILifecycleHost<LoopConnection<TBackend>>.Finish(LoopConnection<TBackend> conn) => Finish(conn);

    void ILifecycleHost<LoopConnection<TBackend>>.CloseListeners() => _backend.CloseListeners();

    // ---- stepping (the fake reactor in tests) -----------------------------------------------------------------

    /// <summary>One turn without waiting, on the calling thread, for a loop that is not <see cref="Run"/>: the
    /// posted work, then the backend's events. For tests that drive a loop step by step. True when posted work ran.</summary>
    internal bool RunOnce()
    {
        bool ran = _loop.RunPosted() > 0;
        _backend.Poll(this, 0);
        DeliverCloses();
        return ran;
    }

    /// <summary>Calls <see cref="IConnectionHandler.OnTick"/> with <paramref name="now"/> and delivers the closes it
    /// caused: time as a test moves it.</summary>
    internal void Tick(long now)
    {
        _handler.OnTick(now);
        DeliverCloses();
    }

    /// <summary>Begins the shutdown now (listeners closed, <see cref="IConnectionHandler.OnShutdown"/>), as a
    /// cancelled <see cref="Run"/> does.</summary>
    internal void Shutdown() => _lifecycle.BeginShutdown(Now);
}
