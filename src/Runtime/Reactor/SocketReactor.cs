using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// A portable event loop on <see cref="System.Net.Sockets"/> (macOS, Windows, and Linux for comparison). Accepts,
/// readiness (zero-byte receives) and sends complete asynchronously, but their completions only enqueue work: every
/// handler callback runs on the one thread that runs <see cref="Run"/>.
/// </summary>
/// <remarks>
/// The contract is the one of <see cref="EpollReactor"/>: one shared receive buffer, corked writes, backpressure
/// with <see cref="ReactorOptions.PauseReadingThreshold"/> and <see cref="ReactorOptions.MaxBackpressure"/>,
/// graceful close with linger, OnClose once after the callback in which the connection ended, ticks, posted work,
/// and shutdown with a drain deadline. An idle connection holds no buffer (it waits with a zero-byte receive).
/// </remarks>
public sealed class SocketReactor : IServerReactor, ILifecycleHost<SocketLoopConn>, ILoopHost
{
    private const int MaxReadsPerEvent = 4;
    private const int MaxWorkPerTurn = 4096;

    private readonly IConnectionHandler _handler;
    private readonly ReactorOptions _options;
    private readonly byte[] _receiveBuffer;
    private readonly byte[] _cork;
    private readonly ConcurrentQueue<LoopWork> _completions = new();
    /// <summary>Wakes the loop. Never disposed: late completions may still release it, and without
    /// AvailableWaitHandle it holds no OS handle.</summary>
    private readonly SemaphoreSlim _signal = new(0);
    private readonly List<Socket> _listeners = [];
    private readonly HashSet<SocketLoopConn> _connections = [];
    private readonly ConnectionLifecycle<SocketLoopConn> _lifecycle;
    private readonly LoopCore<SocketLoopConn> _loop;
    private readonly Stack<SendQueue> _spareQueues = new();
    private readonly List<SocketAsyncEventArgs> _pausedAccepts = [];
    private readonly EventHandler<SocketAsyncEventArgs> _completed;

    private SocketLoopConn? _corked;
    private int _corkLength;
    private int _connectionCount;

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    public SocketReactor(IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _options = options ?? ReactorOptions.Default;
        _options.Validate();
        _handler = handler;
        _lifecycle = new ConnectionLifecycle<SocketLoopConn>(handler, _options, this);
        _loop = new LoopCore<SocketLoopConn>(handler, _lifecycle, this);
        _receiveBuffer = GC.AllocateUninitializedArray<byte>(_options.ReceiveBufferSize, pinned: true);
        _cork = GC.AllocateUninitializedArray<byte>(_options.SendBufferSize, pinned: true);
        _completed = OnCompleted;
    }

    /// <inheritdoc/>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>How many times accepting paused because the process ran out of descriptors or memory (for tests).</summary>
    internal int AcceptPauses => _loop.AcceptPauses;

    /// <inheritdoc/>
    public bool IsLoopThread => _loop.IsLoopThread;

    private static long Now => Environment.TickCount64;

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        _loop.EnsureCanListen();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!OperatingSystem.IsWindows())
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(_options.Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        lock (_listeners)
            _listeners.Add(socket);
        var args = new SocketAsyncEventArgs { UserToken = socket };
        args.Completed += _completed;
        StartAccept(args);
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>Adds a connection: a <see cref="SocketConn"/>, whose descriptor the loop takes over.</summary>
    /// <exception cref="NotSupportedException"><paramref name="conn"/> is not a socket descriptor connection.</exception>
    public void Register(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        if (conn is not SocketConn socketConn)
            throw new NotSupportedException($"SocketReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        _loop.Register(new Socket(new SafeSocketHandle(socketConn.Detach(), ownsHandle: true)));
    }

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state) => _loop.Post(action, state);

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken) => _loop.Run(cancellationToken);

    /// <summary>Closes the listeners and every remaining socket (without callbacks). Call it after
    /// <see cref="Run"/> returned.</summary>
    public void Dispose()
    {
        if (!_loop.TryBeginDispose())
            return;
        CloseListeners();
        foreach (SocketLoopConn conn in _connections)
        {
            conn.State = LoopConnState.Closed;
            conn.Socket.Dispose();
        }

        _connections.Clear();
        while (_completions.TryDequeue(out LoopWork work))
        {
            if (work.Kind == WorkKind.Accepted)
                ((Socket)work.Target).Dispose();
        }

        _loop.DropPosted();
    }

    // ---- completions (any thread) ----------------------------------------------------------------------------

    private void Enqueue(in LoopWork work)
    {
        if (_loop.IsDisposed)
        {
            // Late completions of a disposed loop (its sockets were closed): nothing will run them.
            if (work.Kind == WorkKind.Accepted)
                ((Socket)work.Target).Dispose();
            return;
        }

        _completions.Enqueue(work);
        _loop.Wake();
    }

    private void OnCompleted(object? sender, SocketAsyncEventArgs args)
    {
        switch (args.LastOperation)
        {
            case SocketAsyncOperation.Accept:
                if (CompleteAccept(args))
                    StartAccept(args);
                break;
            case SocketAsyncOperation.Receive:
                Enqueue(new LoopWork(WorkKind.Readable, args.UserToken!, 0, args.SocketError));
                break;
            case SocketAsyncOperation.Send:
                Enqueue(new LoopWork(WorkKind.Sent, args.UserToken!, args.BytesTransferred, args.SocketError));
                break;
        }
    }

    private void StartAccept(SocketAsyncEventArgs args)
    {
        var listener = (Socket)args.UserToken!;
        while (true)
        {
            args.AcceptSocket = null;
            try
            {
                if (listener.AcceptAsync(args))
                    return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (!CompleteAccept(args))
                return;
        }
    }

    /// <summary>Hands an accepted socket to the loop; true when the next accept may start. False when the listener
    /// failed (it was closed), or when the process ran out of descriptors: the loop then starts accepting again after
    /// a pause, and the waiting connections stay in the listen backlog meanwhile.</summary>
    private bool CompleteAccept(SocketAsyncEventArgs args)
    {
        if (args.SocketError == SocketError.Success && args.AcceptSocket is { } socket)
        {
            Enqueue(new LoopWork(WorkKind.Accepted, socket, 0, SocketError.Success));
            return true;
        }

        if (args.SocketError == SocketError.TooManyOpenSockets)
        {
            Enqueue(new LoopWork(WorkKind.AcceptPaused, args, 0, args.SocketError));
            return false;
        }

        return args.SocketError is SocketError.ConnectionReset or SocketError.ConnectionAborted;
    }

    // ---- loop thread -----------------------------------------------------------------------------------------

    private void Process(in LoopWork work)
    {
        switch (work.Kind)
        {
            case WorkKind.Accepted:
                AddConnection((Socket)work.Target);
                break;
            case WorkKind.AcceptPaused:
                _pausedAccepts.Add((SocketAsyncEventArgs)work.Target);
                _loop.PauseAccepting();
                break;
            case WorkKind.Readable:
                var reader = (SocketLoopConn)work.Target;
                reader.ReceivePending = false;
                if (reader.State == LoopConnState.Closed)
                    break;
                if (work.Error != SocketError.Success)
                    Finish(reader);
                else
                    HandleReadable(reader);
                break;
            case WorkKind.Sent:
                var writer = (SocketLoopConn)work.Target;
                writer.SendPending = false;
                if (writer.State == LoopConnState.Closed)
                {
                    ReleaseQueue(writer);
                    break;
                }

                if (work.Error != SocketError.Success)
                    Finish(writer);
                else
                    HandleSent(writer, work.Value);
                break;
        }
    }

    private void AddConnection(Socket socket)
    {
        if (_lifecycle.ShuttingDown)
        {
            socket.Dispose();
            return;
        }

        try
        {
            socket.Blocking = false;
            socket.NoDelay = true;
            if (_options.SocketSendBufferSize > 0)
                socket.SendBufferSize = _options.SocketSendBufferSize;
            if (_options.SocketReceiveBufferSize > 0)
                socket.ReceiveBufferSize = _options.SocketReceiveBufferSize;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return;
        }

        var conn = new SocketLoopConn(this, socket, _completed);
        _connections.Add(conn);
        _connectionCount++;
        _corked = conn;
        _handler.OnOpen(conn);
        Uncork(conn);
        if (conn.State != LoopConnState.Closed)
            StartReceive(conn);
    }

    /// <summary>Waits for input with a zero-byte receive, unless one is pending or reading is paused.</summary>
    private void StartReceive(SocketLoopConn conn)
    {
        if (conn.ReceivePending || conn.State == LoopConnState.Closed)
            return;
        if (conn.State == LoopConnState.Open ? conn.ReadPaused : conn.PeerClosed)
            return;
        conn.ReceivePending = true;
        bool pending;
        try
        {
            pending = conn.Socket.ReceiveAsync(conn.ReceiveArgs);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            conn.ReceivePending = false;
            Finish(conn);
            return;
        }

        if (!pending)
            Enqueue(new LoopWork(WorkKind.Readable, conn, 0, conn.ReceiveArgs.SocketError));
    }

    private void HandleReadable(SocketLoopConn conn)
    {
        if (conn.State != LoopConnState.Open)
        {
            Discard(conn);
            return;
        }

        if (conn.ReadPaused)
            return;
        int size = _receiveBuffer.Length;
        for (int reads = 0; reads < MaxReadsPerEvent; reads++)
        {
            int n = conn.Socket.Receive(_receiveBuffer, 0, size, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
                break;
            if (error == SocketError.Interrupted)
                continue;
            if (error != SocketError.Success || n == 0)
            {
                Finish(conn);
                return;
            }

            _corked = conn;
            _handler.OnData(conn, _receiveBuffer.AsSpan(0, n));
            Uncork(conn);
            if (n < size || conn.State != LoopConnState.Open || conn.ReadPaused)
                break;
        }

        StartReceive(conn);
    }

    private void Discard(SocketLoopConn conn)
    {
        for (int reads = 0; reads < MaxReadsPerEvent * 4; reads++)
        {
            int n = conn.Socket.Receive(_receiveBuffer, 0, _receiveBuffer.Length, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
                break;
            if (error == SocketError.Interrupted || (error == SocketError.Success && n > 0))
                continue;
            if (error != SocketError.Success || conn.State == LoopConnState.Lingering)
            {
                Finish(conn);
                return;
            }

            conn.PeerClosed = true;
            return;
        }

        StartReceive(conn);
    }

    internal int Write(SocketLoopConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.State != LoopConnState.Open || data.IsEmpty)
            return 0;
        if (_loop.IsOtherThreadWhileRunning)
            throw new InvalidOperationException("Write on the loop thread (use IEventLoop.Post).");
        if (conn.Waiting is not null)
            return Enqueue(conn, data) ? data.Length : 0;

        if (conn == _corked)
        {
            if (data.Length <= _cork.Length - _corkLength)
            {
                data.CopyTo(_cork.AsSpan(_corkLength));
                _corkLength += data.Length;
                return data.Length;
            }

            FlushCork(conn);
            if (conn.State != LoopConnState.Open)
                return 0;
            if (conn.Waiting is not null)
                return Enqueue(conn, data) ? data.Length : 0;
            if (data.Length <= _cork.Length)
            {
                data.CopyTo(_cork);
                _corkLength = data.Length;
                return data.Length;
            }
        }

        int sent = Send(conn, data);
        if (sent < 0)
            return 0;
        if (sent < data.Length && !Enqueue(conn, data[sent..]))
            return 0;
        return data.Length;
    }

    /// <summary>One non-blocking send; the bytes taken, or -1 when the connection failed (it is then closed).</summary>
    private int Send(SocketLoopConn conn, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            int n = conn.Socket.Send(data, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
                return n;
            if (error == SocketError.WouldBlock)
                return 0;
            if (error == SocketError.Interrupted)
                continue;
            Finish(conn);
            return -1;
        }
    }

    private bool Enqueue(SocketLoopConn conn, ReadOnlySpan<byte> data)
    {
        SendQueue? queue = conn.Waiting;
        if ((queue?.Length ?? 0) + data.Length > _options.MaxBackpressure)
        {
            Finish(conn);
            return false;
        }

        if (queue is null)
        {
            queue = _spareQueues.Count > 0 ? _spareQueues.Pop() : new SendQueue(_options.BackpressurePool);
            conn.Waiting = queue;
        }

        queue.Append(data);
        if (queue.Length > _options.PauseReadingThreshold)
            conn.ReadPaused = true;
        StartSend(conn);
        return true;
    }

    /// <summary>Sends the oldest waiting bytes asynchronously, unless a send is already in flight.</summary>
    private void StartSend(SocketLoopConn conn)
    {
        if (conn.SendPending || conn.Waiting is not { IsEmpty: false } queue)
            return;
        SocketAsyncEventArgs args = conn.SendArgs ??= CreateSendArgs(conn);
        args.SetBuffer(MemoryMarshal.AsMemory(queue.FirstMemory));
        conn.SendPending = true;
        bool pending;
        try
        {
            pending = conn.Socket.SendAsync(args);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            conn.SendPending = false;
            Finish(conn);
            return;
        }

        if (!pending)
            Enqueue(new LoopWork(WorkKind.Sent, conn, args.BytesTransferred, args.SocketError));
    }

    private SocketAsyncEventArgs CreateSendArgs(SocketLoopConn conn)
    {
        var args = new SocketAsyncEventArgs { UserToken = conn };
        args.Completed += _completed;
        return args;
    }

    private void HandleSent(SocketLoopConn conn, int sent)
    {
        SendQueue? queue = conn.Waiting;
        if (queue is null)
            return;
        queue.Consume(Math.Min(sent, (int)Math.Min(queue.Length, int.MaxValue)));
        if (!queue.IsEmpty)
        {
            StartSend(conn);
            return;
        }

        ReleaseQueue(conn);
        if (conn.State == LoopConnState.Closing)
        {
            BeginLinger(conn);
        }
        else if (conn.State == LoopConnState.Open)
        {
            StartReceive(conn);
            _corked = conn;
            _handler.OnWritable(conn);
            Uncork(conn);
        }
    }

    /// <summary>Returns the connection's send queue and its buffers. While a send is in flight its buffer stays
    /// untouched (it could otherwise carry another connection's bytes): the completion releases it.</summary>
    private void ReleaseQueue(SocketLoopConn conn)
    {
        conn.ReadPaused = false;
        SendQueue? queue = conn.Waiting;
        if (queue is null || conn.SendPending)
            return;
        conn.Waiting = null;
        queue.Clear();
        _spareQueues.Push(queue);
    }

    private void FlushCork(SocketLoopConn conn)
    {
        int length = _corkLength;
        _corkLength = 0;
        if (length == 0 || conn.State == LoopConnState.Closed)
            return;
        int sent = Send(conn, _cork.AsSpan(0, length));
        if (sent >= 0 && sent < length)
            Enqueue(conn, _cork.AsSpan(sent, length - sent));
    }

    private void Uncork(SocketLoopConn conn)
    {
        FlushCork(conn);
        _corked = null;
        if (conn.State == LoopConnState.Closing && conn.Waiting is null)
            BeginLinger(conn);
    }

    // ---- closing ---------------------------------------------------------------------------------------------

    internal void Close(SocketLoopConn conn)
    {
        if (!_lifecycle.TryBeginClose(conn, Now))
            return;
        if (conn != _corked && conn.Waiting is null)
            BeginLinger(conn);
        else
            StartReceive(conn);
    }

    internal void Abort(SocketLoopConn conn) => Finish(conn);

    private void BeginLinger(SocketLoopConn conn)
    {
        if (conn.PeerClosed)
        {
            Finish(conn);
            return;
        }

        try
        {
            conn.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            Finish(conn);
            return;
        }

        _lifecycle.BeginLinger(conn, Now);
        StartReceive(conn);
    }

    private void Finish(SocketLoopConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        conn.State = LoopConnState.Closed;
        if (conn == _corked)
            _corkLength = 0;
        ReleaseQueue(conn);
        conn.Socket.Dispose();
        _connections.Remove(conn);
        _connectionCount--;
        _lifecycle.QueueClose(conn);
    }

    private void DeliverCloses() => _lifecycle.DeliverCloses();

    void ILifecycleHost<SocketLoopConn>.Finish(SocketLoopConn conn) => Finish(conn);

    void ILifecycleHost<SocketLoopConn>.CloseListeners() => CloseListeners();

    private void CloseListeners()
    {
        lock (_listeners)
        {
            foreach (Socket listener in _listeners)
                listener.Dispose();
            _listeners.Clear();
        }
    }

    // ---- ILoopHost ------------------------------------------------------------------------------------------

    void ILoopHost.Starting()
    {
    }

    /// <summary>Waits on the semaphore unless completions are queued, then handles up to
    /// <see cref="MaxWorkPerTurn"/> of them.</summary>
    void ILoopHost.WaitAndHandle(int timeoutMilliseconds)
    {
        if (_completions.IsEmpty)
            _signal.Wait(timeoutMilliseconds);
        _loop.WakeConsumed();
        for (int i = 0; i < MaxWorkPerTurn && _completions.TryDequeue(out LoopWork work); i++)
        {
            Process(in work);
            DeliverCloses();
        }
    }

    void ILoopHost.Signal() => _signal.Release();

    /// <summary>The pause after running out of descriptors is over: the accepts it held start again.</summary>
    void ILoopHost.ResumeAccepting()
    {
        foreach (SocketAsyncEventArgs args in _pausedAccepts)
            StartAccept(args);
        _pausedAccepts.Clear();
    }

    void ILoopHost.Stopped() => _lifecycle.AbortAll(_connections.ToArray());

    void ILoopHost.RegisterOnLoop(object state) => AddConnection((Socket)state);

    void ILoopHost.DropRegistration(object state) => ((Socket)state).Dispose();

    private enum WorkKind : byte
    {
        Accepted,
        AcceptPaused,
        Readable,
        Sent,
    }

    /// <summary>One completion in the loop's queue (a struct: no allocation per item).</summary>
    private readonly record struct LoopWork(WorkKind Kind, object Target, int Value, SocketError Error);
}
