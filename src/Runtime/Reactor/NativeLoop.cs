using System.Net;
using System.Runtime.InteropServices;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// What every native loop shares (epoll, kqueue, IOCP): the connection table, the shared receive buffer, corked
/// writes, backpressure and the graceful-close state machine (the loop's turns, ticks, posted work and shutdown are
/// <see cref="LoopCore{TConn}"/>'s and <see cref="ConnectionLifecycle{TConn}"/>'s). A backend supplies the
/// platform's waiting (<see cref="Poll"/>), interest changes, socket calls and listeners, and reports events with
/// <see cref="HandleReadable"/>, <see cref="HandleWritable"/>, <see cref="AcceptAll"/> and <see cref="AddConnection"/>.
/// </summary>
/// <remarks>
/// <para>Reading: a readable connection gets one receive into the loop's buffer (again while it comes back full, a
/// few times at most), then <see cref="IConnectionHandler.OnData"/>.</para>
/// <para>Writing: while a callback runs for connection X, writes to X gather in the loop's cork buffer and go out
/// with one send when the callback returns. Writes to another connection go straight to the socket. What a socket
/// does not take waits in a pooled per-connection <see cref="SendQueue"/>; the loop sends it when the socket is
/// writable, then calls <see cref="IConnectionHandler.OnWritable"/>. While more than
/// <see cref="ReactorOptions.PauseReadingThreshold"/> bytes wait the loop stops reading the connection; a write that
/// would make them exceed <see cref="ReactorOptions.MaxBackpressure"/> aborts it.</para>
/// <para>Closing: <see cref="INetConn.Close"/> flushes, shuts down the sending side, discards input until the peer's
/// end of stream or <see cref="ReactorOptions.LingerTimeout"/>, then closes. A peer's end of stream or a socket error
/// closes the connection at once. <see cref="IConnectionHandler.OnClose"/> runs once, after the callback in which
/// the connection ended.</para>
/// <para>Handler exceptions are not caught: they end <see cref="Run"/>.</para>
/// </remarks>
internal abstract unsafe class NativeLoop : IServerReactor, ILifecycleHost<NativeConn>, ILoopHost
{
    /// <summary>A receive or send that would block.</summary>
    protected const int WouldBlock = -1;

    /// <summary>A receive or send that failed: the connection is broken.</summary>
    protected const int Failed = -2;

    protected const int MaxReadsPerEvent = 4;
    private const int MaxAcceptsPerEvent = 256;

    private readonly IConnectionHandler _handler;
    private readonly byte* _receiveBuffer;
    private readonly byte* _cork;
    private readonly ConnectionLifecycle<NativeConn> _lifecycle;
    private readonly LoopCore<NativeConn> _loop;
    private readonly Stack<SendQueue> _spareQueues = new();

    private readonly ConnectionTable<NativeConn> _connections = new();
    private NativeConn? _corked;
    private int _corkLength;
    private int _connectionCount;

    protected NativeLoop(IConnectionHandler handler, ReactorOptions? options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Options = options ?? ReactorOptions.Default;
        Options.Validate();
        _handler = handler;
        _lifecycle = new ConnectionLifecycle<NativeConn>(handler, Options, this);
        _loop = new LoopCore<NativeConn>(handler, _lifecycle, this);
        _receiveBuffer = (byte*)NativeMemory.Alloc((nuint)Options.ReceiveBufferSize);
        _cork = (byte*)NativeMemory.Alloc((nuint)Options.SendBufferSize);
    }

    /// <summary>The loop's options (validated).</summary>
    protected ReactorOptions Options { get; }

    /// <summary>True once <see cref="Run"/> was asked to stop.</summary>
    protected bool ShuttingDown => _lifecycle.ShuttingDown;

    /// <inheritdoc/>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>How many times accepting paused because the process ran out of descriptors or memory (for tests).</summary>
    internal int AcceptPauses => _loop.AcceptPauses;

    /// <inheritdoc/>
    public bool IsLoopThread => _loop.IsLoopThread;

    protected static long Now => Environment.TickCount64;

    // ---- the backend ------------------------------------------------------------------------------------------

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for events and reports each one, calling
    /// <see cref="DeliverCloses"/> after each. Throws <see cref="IOException"/> when waiting itself failed.</summary>
    protected abstract void Poll(int timeoutMilliseconds);

    /// <summary>Wakes a loop blocked in <see cref="Poll"/> (from any thread). The backend calls
    /// <see cref="WakeConsumed"/> when it sees the wake-up.</summary>
    protected abstract void Signal();

    /// <summary>Starts watching a new connection for reading. Returns false when the platform refused.</summary>
    protected abstract bool Watch(NativeConn conn);

    /// <summary>Changes what <paramref name="conn"/> is watched for, from <see cref="NativeConn.Interest"/> to
    /// <paramref name="wanted"/>. Returns false when the platform refused (the connection is then finished).</summary>
    protected abstract bool ChangeInterest(NativeConn conn, Interest wanted);

    /// <summary>One non-blocking receive: the byte count (0 at the peer's end of stream), <see cref="WouldBlock"/>
    /// or <see cref="Failed"/>.</summary>
    protected abstract int Receive(nint socket, byte* buffer, int length);

    /// <summary>One non-blocking send that never raises SIGPIPE: the byte count, <see cref="WouldBlock"/> or
    /// <see cref="Failed"/>.</summary>
    protected abstract int Send(nint socket, byte* data, int length);

    /// <summary>Shuts down the sending side; false on failure.</summary>
    protected abstract bool ShutdownSend(nint socket);

    /// <summary>Closes the socket of a finished connection (its slot is no longer in the table).</summary>
    protected abstract void CloseSocket(NativeConn conn);

    /// <summary>The table slot for a new socket.</summary>
    protected abstract int SlotOf(nint socket);

    /// <summary>Applies the socket buffer sizes of <see cref="Options"/> to an accepted socket.</summary>
    protected abstract void ConfigureAccepted(nint socket);

    /// <summary>Opens a listener on <paramref name="endPoint"/> and watches it; returns the bound endpoint.</summary>
    protected abstract IPEndPoint OpenListener(IPEndPoint endPoint);

    /// <summary>Accepts one pending connection of listener <paramref name="listenerIndex"/>; false when none is
    /// pending. Throws <see cref="System.Net.Sockets.SocketException"/> when out of descriptors or memory.</summary>
    protected abstract bool TryAccept(int listenerIndex, out nint socket);

    /// <summary>Watches the listeners again, or stops watching them while accepting backs off.</summary>
    protected abstract void SetListenersWatched(bool watched);

    /// <summary>Closes every listener. Idempotent, callable from any thread.</summary>
    protected abstract void CloseListeners();

    /// <summary>Takes over the socket of a connection given to <see cref="Register"/>, or throws
    /// <see cref="NotSupportedException"/>.</summary>
    protected abstract nint DetachRegistered(INetConn conn);

    /// <summary>Closes a socket that never became a connection.</summary>
    protected abstract void CloseRaw(nint socket);

    /// <summary>Releases the backend's handles and memory, after every connection's socket was closed.</summary>
    protected abstract void DisposeBackend();

    // ---- IServerReactor ---------------------------------------------------------------------------------------

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        _loop.EnsureCanListen();
        return OpenListener(endPoint);
    }

    /// <inheritdoc/>
    public void Register(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        _loop.Register(DetachRegistered(conn));
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
        CloseListeners();
        _connections.ForEach(this, static (loop, conn) =>
        {
            if (conn.State != LoopConnState.Closed)
            {
                conn.State = LoopConnState.Closed;
                loop.CloseSocket(conn);
                conn.Waiting?.Clear();
                conn.Waiting = null;
            }
        });

        _connections.Clear();
        _loop.DropPosted();
        DisposeBackend();
        NativeMemory.Free(_receiveBuffer);
        NativeMemory.Free(_cork);
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    internal int Read(NativeConn conn, Span<byte> buffer)
    {
        int n;
        fixed (byte* p = buffer)
            n = Receive(conn.Socket, p, buffer.Length);
        return n >= 0 ? n : n == WouldBlock ? NetConn.WouldBlock : 0;
    }

    /// <summary>The connection in <paramref name="slot"/>, or null.</summary>
    protected NativeConn? Lookup(int slot) => _connections[slot];

    /// <summary>The socket is readable, or (with <paramref name="hangUp"/>) reported an error or a hang-up.</summary>
    protected void HandleReadable(NativeConn conn, bool hangUp)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        if (conn.State != LoopConnState.Open)
        {
            // A hang-up after the peer's end of stream was seen would be reported again and again: give up.
            if (conn.PeerClosed && hangUp)
                Finish(conn);
            else
                Discard(conn);
            return;
        }

        if (conn.ReadPaused)
        {
            // Only a hang-up or an error is reported while reading is paused: the peer is gone.
            if (hangUp)
                Finish(conn);
            return;
        }

        int size = Options.ReceiveBufferSize;
        for (int reads = 0; reads < MaxReadsPerEvent; reads++)
        {
            int n = Receive(conn.Socket, _receiveBuffer, size);
            if (n > 0)
            {
                _corked = conn;
                _handler.OnData(conn, new Span<byte>(_receiveBuffer, n));
                Uncork(conn);
                if (n < size || conn.State != LoopConnState.Open || conn.ReadPaused)
                    return;
                continue;
            }

            if (n == WouldBlock)
                return;

            // End of stream, or a connection error (reset, timeout ...).
            Finish(conn);
            return;
        }
    }

    /// <summary>Reads and drops input of a closing connection. The peer's end of stream (or an error) completes a
    /// lingering close; while still flushing, it only stops reading.</summary>
    private void Discard(NativeConn conn)
    {
        int size = Options.ReceiveBufferSize;
        for (int reads = 0; reads < MaxReadsPerEvent * 4; reads++)
        {
            int n = Receive(conn.Socket, _receiveBuffer, size);
            if (n > 0)
                continue;
            if (n == WouldBlock)
                return;
            if (n == Failed)
            {
                Finish(conn);
                return;
            }

            if (conn.State == LoopConnState.Lingering)
            {
                Finish(conn);
            }
            else
            {
                conn.PeerClosed = true;
                UpdateInterest(conn);
            }

            return;
        }
    }

    // ---- writing ----------------------------------------------------------------------------------------------

    internal int Write(NativeConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.State != LoopConnState.Open || data.IsEmpty)
            return 0;
        if (_loop.IsOtherThreadWhileRunning)
            throw new InvalidOperationException("Write on the loop thread (use IEventLoop.Post).");
        if (conn.Waiting is not null)
            return Enqueue(conn, data) ? data.Length : 0;

        if (conn == _corked)
        {
            int capacity = Options.SendBufferSize;
            if (data.Length <= capacity - _corkLength)
            {
                data.CopyTo(new Span<byte>(_cork + _corkLength, data.Length));
                _corkLength += data.Length;
                return data.Length;
            }

            FlushCork(conn);
            if (conn.State != LoopConnState.Open)
                return 0;
            if (conn.Waiting is not null)
                return Enqueue(conn, data) ? data.Length : 0;
            if (data.Length <= capacity)
            {
                data.CopyTo(new Span<byte>(_cork, data.Length));
                _corkLength = data.Length;
                return data.Length;
            }
        }

        int sent = SendOrFinish(conn, data);
        if (sent < 0)
            return 0;
        if (sent < data.Length && !Enqueue(conn, data[sent..]))
            return 0;
        return data.Length;
    }

    /// <summary>The next <paramref name="length"/> bytes of the cork, taken for <paramref name="conn"/> to fill, or an
    /// empty span when <see cref="Write"/> must handle the bytes instead (see <see cref="ICorkedOutput.TakeCorked"/>).</summary>
    internal Span<byte> TakeCorked(NativeConn conn, int length)
    {
        int used = _corkLength;
        if (conn != _corked || conn.State != LoopConnState.Open || conn.Waiting is not null
            || (uint)length > (uint)(Options.SendBufferSize - used) || Environment.CurrentManagedThreadId != _loop.LoopThreadId)
            return default;
        _corkLength = used + length;
        return new Span<byte>(_cork + used, length);
    }

    /// <summary>One send; the number of bytes taken, or -1 when the connection failed (it is then closed).</summary>
    private int SendOrFinish(NativeConn conn, ReadOnlySpan<byte> data)
    {
        int n;
        fixed (byte* p = data)
            n = Send(conn.Socket, p, data.Length);
        if (n >= 0)
            return n;
        if (n == WouldBlock)
            return 0;
        Finish(conn);
        return -1;
    }

    /// <summary>Keeps bytes the socket did not take. Returns false when that would exceed
    /// <see cref="ReactorOptions.MaxBackpressure"/>: the connection is then aborted.</summary>
    private bool Enqueue(NativeConn conn, ReadOnlySpan<byte> data)
    {
        SendQueue? queue = conn.Waiting;
        long waiting = queue?.Length ?? 0;
        if (waiting + data.Length > Options.MaxBackpressure)
        {
            Finish(conn);
            return false;
        }

        if (queue is null)
        {
            queue = _spareQueues.Count > 0 ? _spareQueues.Pop() : new SendQueue(Options.BackpressurePool);
            conn.Waiting = queue;
        }

        queue.Append(data);
        if (queue.Length > Options.PauseReadingThreshold)
            conn.ReadPaused = true;
        UpdateInterest(conn);
        return true;
    }

    private void FlushCork(NativeConn conn)
    {
        int length = _corkLength;
        _corkLength = 0;
        if (length == 0 || conn.State == LoopConnState.Closed)
            return;
        var data = new ReadOnlySpan<byte>(_cork, length);
        int sent = SendOrFinish(conn, data);
        if (sent >= 0 && sent < length)
            Enqueue(conn, data[sent..]);
    }

    /// <summary>Ends the corked section of a callback for <paramref name="conn"/>: flushes the cork, and continues
    /// a graceful close that was waiting for it.</summary>
    private void Uncork(NativeConn conn)
    {
        FlushCork(conn);
        _corked = null;
        if (conn.State == LoopConnState.Closing && conn.Waiting is null)
            BeginLinger(conn);
    }

    /// <summary>The socket can take more bytes: sends what waits, and once everything went out, continues a
    /// graceful close or calls <see cref="IConnectionHandler.OnWritable"/>.</summary>
    protected void HandleWritable(NativeConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        SendQueue? queue = conn.Waiting;
        if (queue is null)
        {
            UpdateInterest(conn);
            return;
        }

        while (!queue.IsEmpty)
        {
            ReadOnlySpan<byte> first = queue.First;
            int sent = SendOrFinish(conn, first);
            if (sent < 0)
                return;
            queue.Consume(sent);
            if (sent < first.Length)
                return;
        }

        ReleaseQueue(conn);
        UpdateInterest(conn);
        if (conn.State == LoopConnState.Closing)
        {
            BeginLinger(conn);
        }
        else if (conn.State == LoopConnState.Open)
        {
            _corked = conn;
            _handler.OnWritable(conn);
            Uncork(conn);
        }
    }

    private void ReleaseQueue(NativeConn conn)
    {
        SendQueue? queue = conn.Waiting;
        conn.Waiting = null;
        conn.ReadPaused = false;
        if (queue is not null)
            ReturnQueue(queue);
    }

    /// <summary>Empties <paramref name="queue"/> and keeps it for the next backpressure episode.</summary>
    protected void ReturnQueue(SendQueue queue)
    {
        queue.Clear();
        _spareQueues.Push(queue);
    }

    /// <summary>Watches what <paramref name="conn"/> needs now: reading unless paused (or the peer's end of stream
    /// was seen while flushing), writing while bytes wait.</summary>
    protected void UpdateInterest(NativeConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        Interest wanted = Interest.None;
        bool closing = conn.State != LoopConnState.Open;
        if (closing ? !conn.PeerClosed : !conn.ReadPaused)
            wanted |= Interest.Read;
        if (conn.Waiting is not null)
            wanted |= Interest.Write;
        if (wanted == conn.Interest)
            return;
        if (!ChangeInterest(conn, wanted))
        {
            Finish(conn);
            return;
        }

        conn.Interest = wanted;
    }

    // ---- accepting --------------------------------------------------------------------------------------------

    /// <summary>Accepts the pending connections of a readable listener (readiness backends).</summary>
    protected void AcceptAll(int listenerIndex)
    {
        for (int i = 0; i < MaxAcceptsPerEvent; i++)
        {
            nint socket;
            try
            {
                if (!TryAccept(listenerIndex, out socket))
                    return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Out of descriptors or memory. A level-triggered poller would report the listener again at once,
                // so stop watching the listeners for a moment; the pending connections wait in the backlog.
                PauseAccepting();
                return;
            }

            AddConnection(socket);
            DeliverCloses();
        }
    }

    /// <summary>Stops watching the listeners for <see cref="LoopCore{TConn}.AcceptBackoffMilliseconds"/>.</summary>
    protected void PauseAccepting()
    {
        SetListenersWatched(false);
        _loop.PauseAccepting();
    }

    /// <summary>Adds a connected non-blocking socket and calls <see cref="IConnectionHandler.OnOpen"/>.</summary>
    protected void AddConnection(nint socket)
    {
        ConfigureAccepted(socket);
        int slot = SlotOf(socket);
        var conn = new NativeConn(this, socket, slot) { Interest = Interest.Read };
        if (!Watch(conn))
        {
            conn.State = LoopConnState.Closed;
            CloseSocket(conn);
            return;
        }

        _connections[slot] = conn;
        _connectionCount++;
        _corked = conn;
        _handler.OnOpen(conn);
        Uncork(conn);
    }

    // ---- closing ----------------------------------------------------------------------------------------------

    internal void Close(NativeConn conn)
    {
        if (!_lifecycle.TryBeginClose(conn, Now))
            return;
        if (conn != _corked && conn.Waiting is null)
            BeginLinger(conn);
        else
            UpdateInterest(conn);
    }

    internal void Abort(NativeConn conn) => Finish(conn);

    /// <summary>Everything was flushed: shut down the sending side and wait for the peer's end of stream.</summary>
    private void BeginLinger(NativeConn conn)
    {
        if (!ShutdownSend(conn.Socket) || conn.PeerClosed)
        {
            Finish(conn);
            return;
        }

        _lifecycle.BeginLinger(conn, Now);
        UpdateInterest(conn);
    }

    /// <summary>Closes the socket now and queues <see cref="IConnectionHandler.OnClose"/>.</summary>
    protected void Finish(NativeConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        conn.State = LoopConnState.Closed;
        if (conn == _corked)
            _corkLength = 0;
        _connections[conn.Slot] = null;
        CloseSocket(conn);
        ReleaseQueue(conn);
        conn.Socket = -1;
        conn.Interest = Interest.None;
        _connectionCount--;
        _lifecycle.QueueClose(conn);
    }

    void ILifecycleHost<NativeConn>.Finish(NativeConn conn) => Finish(conn);

    void ILifecycleHost<NativeConn>.CloseListeners() => CloseListeners();

    /// <summary>Calls OnClose for the connections that ended, outside any other callback.</summary>
    protected void DeliverCloses() => _lifecycle.DeliverCloses();

    // ---- ILoopHost --------------------------------------------------------------------------------------------

    /// <summary>The backend saw the wake-up: the next <see cref="Post"/> signals again.</summary>
    protected void WakeConsumed() => _loop.WakeConsumed();

    void ILoopHost.Starting()
    {
    }

    void ILoopHost.WaitAndHandle(int timeoutMilliseconds) => Poll(timeoutMilliseconds);

    void ILoopHost.Signal() => Signal();

    void ILoopHost.ResumeAccepting() => SetListenersWatched(true);

    void ILoopHost.Stopped() => _lifecycle.AbortAll(_connections);

    void ILoopHost.RegisterOnLoop(object state)
    {
        nint socket = (nint)state;
        if (_lifecycle.ShuttingDown)
        {
            CloseRaw(socket);
            return;
        }

        AddConnection(socket);
    }

    void ILoopHost.DropRegistration(object state) => CloseRaw((nint)state);
}
