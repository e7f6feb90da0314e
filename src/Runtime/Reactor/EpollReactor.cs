using System.Collections.Concurrent;
using System.Net;
using System.Runtime.InteropServices;
using WsGen.Native;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// A Linux event loop over level-triggered epoll. One thread runs it (<see cref="Run"/>); every handler callback
/// runs there.
/// </summary>
/// <remarks>
/// <para>Reading: the loop has one receive buffer (<see cref="ReactorOptions.ReceiveBufferSize"/>) shared by all
/// its connections. A readable connection gets one <c>recv</c> into it (again while it comes back full, a few
/// times at most), then <see cref="IConnectionHandler.OnData"/> with the bytes read.</para>
/// <para>Writing: while a callback runs for connection X, writes to X gather in the loop's cork buffer and go out
/// with one <c>send</c> when the callback returns. Writes to another connection go straight to the socket. What a
/// socket does not take waits in a pooled per-connection queue, and the loop sends it when the socket is writable,
/// then calls <see cref="IConnectionHandler.OnWritable"/>. While more than
/// <see cref="ReactorOptions.PauseReadingThreshold"/> bytes wait the loop stops reading the connection; a write
/// that would make them exceed <see cref="ReactorOptions.MaxBackpressure"/> aborts it.</para>
/// <para>Closing: <see cref="INetConn.Close"/> flushes, shuts down the sending side, discards input until the
/// peer's end of stream (so that unread input does not turn the close into a reset that could destroy the last
/// bytes sent) or <see cref="ReactorOptions.LingerTimeout"/>, then closes. A peer's end of stream or a socket
/// error closes the connection at once, dropping what waits. <see cref="IConnectionHandler.OnClose"/> runs once,
/// after the callback in which the connection ended.</para>
/// <para>Handler exceptions are not caught: they end <see cref="Run"/>.</para>
/// </remarks>
public sealed unsafe class EpollReactor : IServerReactor
{
    private const int MaxEvents = 256;
    private const int MaxReadsPerEvent = 4;
    private const int MaxAcceptsPerEvent = 256;
    private const int MaxPostedPerTurn = 4096;
    private const int TickMilliseconds = 1000;
    private const int SweepMilliseconds = 50;
    private const int AcceptBackoffMilliseconds = 100;

    private const ulong ListenerTag = 1UL << 32;
    private const ulong WakeTag = 2UL << 32;

    private readonly IConnectionHandler _handler;
    private readonly ReactorOptions _options;
    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly byte* _events;
    private readonly byte* _receiveBuffer;
    private readonly byte* _cork;
    private readonly List<SocketListener> _listeners = [];
    private readonly ConcurrentQueue<PostedWork> _posted = new();
    private readonly List<EpollConn> _pendingClose = [];
    private readonly List<EpollConn> _closing = [];
    private readonly Stack<SendQueue> _spareQueues = new();
    private readonly Action<object?> _registerOnLoop;

    private EpollConn?[] _connections = new EpollConn?[1024];
    private EpollConn? _corked;
    private int _corkLength;
    private int _connectionCount;
    private int _wakePending;
    private int _loopThreadId;
    private int _running;
    private bool _shuttingDown;
    private bool _deliveringCloses;
    private long _drainDeadline;
    private long _nextSweep;
    private long _acceptResumeAt;
    private bool _acceptPaused;
    private bool _disposed;

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    public EpollReactor(IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("EpollReactor needs Linux.");
        _options = options ?? ReactorOptions.Default;
        _options.Validate();
        _handler = handler;
        _registerOnLoop = RegisterOnLoop;

        _epollFd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epollFd < 0)
            Errno.ThrowSocketException();
        _wakeFd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_wakeFd < 0 || Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, _wakeFd, Libc.EPOLLIN, WakeTag) < 0)
        {
            int errno = Errno.Last;
            if (_wakeFd >= 0)
                Libc.close(_wakeFd);
            Libc.close(_epollFd);
            throw Errno.SocketException(errno);
        }

        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Libc.EpollEventSize));
        _receiveBuffer = (byte*)NativeMemory.Alloc((nuint)_options.ReceiveBufferSize);
        _cork = (byte*)NativeMemory.Alloc((nuint)_options.SendBufferSize);
    }

    /// <summary>True on Linux, where epoll exists.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <inheritdoc/>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <inheritdoc/>
    public bool IsLoopThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _loopThreadId);

    private static long Now => Environment.TickCount64;

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_shuttingDown)
            throw new InvalidOperationException("The loop is shutting down.");
        var listener = new SocketListener(endPoint, _options.Backlog, _options.ReusePort);
        lock (_listeners)
        {
            ulong data = ListenerTag | (uint)_listeners.Count;
            if (Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, listener.Fd, Libc.EPOLLIN, data) < 0)
            {
                int errno = Errno.Last;
                listener.Dispose();
                throw Errno.SocketException(errno);
            }

            _listeners.Add(listener);
        }

        return listener.LocalEndPoint;
    }

    /// <summary>Adds a connection: a <see cref="SocketConn"/>, whose descriptor the loop takes over.</summary>
    /// <exception cref="NotSupportedException"><paramref name="conn"/> is not a socket descriptor connection.</exception>
    public void Register(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        if (conn is not SocketConn)
            throw new NotSupportedException($"EpollReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        if (IsLoopThread)
            RegisterOnLoop(conn);
        else
            Post(_registerOnLoop, conn);
    }

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        _posted.Enqueue(new PostedWork(action, state));
        Wake();
    }

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException("The loop is already running.");
        Volatile.Write(ref _loopThreadId, Environment.CurrentManagedThreadId);
        using var registration = cancellationToken.UnsafeRegister(static s => ((EpollReactor)s!).Wake(), this);
        try
        {
            long now = Now;
            long nextTick = now + TickMilliseconds;
            while (true)
            {
                if (!_shuttingDown && cancellationToken.IsCancellationRequested)
                    BeginShutdown(now);
                if (_shuttingDown && (_connectionCount == 0 || now >= _drainDeadline))
                    break;

                int ready = Libc.epoll_wait(_epollFd, _events, MaxEvents, WaitTimeout(now, nextTick));
                if (ready < 0)
                {
                    int errno = Errno.Last;
                    if (errno != Errno.EINTR)
                        throw Errno.IOException("epoll_wait", errno);
                    ready = 0;
                }

                for (int i = 0; i < ready; i++)
                {
                    Dispatch(Libc.EpollEvents(_events, i), Libc.EpollData(_events, i));
                    DeliverCloses();
                }

                RunPosted();
                now = Now;
                if (now >= nextTick)
                {
                    nextTick = now + TickMilliseconds;
                    _handler.OnTick(now);
                    DeliverCloses();
                }

                if (_closing.Count > 0 && now >= _nextSweep)
                    SweepClosing(now);
                if (_acceptPaused && now >= _acceptResumeAt)
                    SetListenerInterest(Libc.EPOLLIN);
            }

            AbortAll();
        }
        finally
        {
            Volatile.Write(ref _loopThreadId, 0);
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Closes the listeners, every remaining descriptor (without callbacks) and the epoll instance.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        if (Volatile.Read(ref _running) != 0)
            throw new InvalidOperationException("Dispose the reactor after Run returned.");
        _disposed = true;
        CloseListeners();
        foreach (EpollConn? conn in _connections)
        {
            if (conn is not null && conn.Fd >= 0)
            {
                Libc.close(conn.Fd);
                conn.Fd = -1;
                conn.State = LoopConnState.Closed;
                conn.Waiting?.Clear();
                conn.Waiting = null;
            }
        }

        Array.Clear(_connections);
        while (_posted.TryDequeue(out PostedWork work))
        {
            if (work.Action == _registerOnLoop)
                ((SocketConn)work.State!).Close();
        }

        Libc.close(_wakeFd);
        Libc.close(_epollFd);
        NativeMemory.Free(_events);
        NativeMemory.Free(_receiveBuffer);
        NativeMemory.Free(_cork);
    }

    // ---- writing ---------------------------------------------------------------------------------------------

    internal int Write(EpollConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.State != LoopConnState.Open || data.IsEmpty)
            return 0;
        if (Environment.CurrentManagedThreadId != _loopThreadId && _loopThreadId != 0)
            throw new InvalidOperationException("Write on the loop thread (use IEventLoop.Post).");
        if (conn.Waiting is not null)
            return Enqueue(conn, data) ? data.Length : 0;

        if (conn == _corked)
        {
            int capacity = _options.SendBufferSize;
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

        int sent = Send(conn, data);
        if (sent < 0)
            return 0;
        if (sent < data.Length && !Enqueue(conn, data[sent..]))
            return 0;
        return data.Length;
    }

    /// <summary>One send; the number of bytes taken, or -1 when the connection failed (it is then closed).</summary>
    private int Send(EpollConn conn, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            nint n;
            fixed (byte* p = data)
                n = Libc.send(conn.Fd, p, (nuint)data.Length, Libc.MSG_NOSIGNAL);
            if (n >= 0)
                return (int)n;
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
                continue;
            if (errno == Errno.EAGAIN)
                return 0;
            Finish(conn);
            return -1;
        }
    }

    /// <summary>Keeps bytes the socket did not take. Returns false when that would exceed
    /// <see cref="ReactorOptions.MaxBackpressure"/>: the connection is then aborted.</summary>
    private bool Enqueue(EpollConn conn, ReadOnlySpan<byte> data)
    {
        SendQueue? queue = conn.Waiting;
        long waiting = queue?.Length ?? 0;
        if (waiting + data.Length > _options.MaxBackpressure)
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
        UpdateInterest(conn);
        return true;
    }

    private void FlushCork(EpollConn conn)
    {
        int length = _corkLength;
        _corkLength = 0;
        if (length == 0 || conn.State == LoopConnState.Closed)
            return;
        var data = new ReadOnlySpan<byte>(_cork, length);
        int sent = Send(conn, data);
        if (sent >= 0 && sent < length)
            Enqueue(conn, data[sent..]);
    }

    /// <summary>Ends the corked section of a callback for <paramref name="conn"/>: flushes the cork, and continues
    /// a graceful close that was waiting for it.</summary>
    private void Uncork(EpollConn conn)
    {
        FlushCork(conn);
        _corked = null;
        if (conn.State == LoopConnState.Closing && conn.Waiting is null)
            BeginLinger(conn);
    }

    private void HandleWritable(EpollConn conn)
    {
        SendQueue? queue = conn.Waiting;
        if (queue is null)
        {
            UpdateInterest(conn);
            return;
        }

        while (!queue.IsEmpty)
        {
            ReadOnlySpan<byte> first = queue.First;
            int sent = Send(conn, first);
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

    private void ReleaseQueue(EpollConn conn)
    {
        SendQueue? queue = conn.Waiting;
        conn.Waiting = null;
        conn.ReadPaused = false;
        if (queue is not null)
        {
            queue.Clear();
            _spareQueues.Push(queue);
        }
    }

    /// <summary>Registers the epoll events <paramref name="conn"/> needs now: reading unless paused (or the peer's
    /// end of stream was seen while flushing), writing while bytes wait.</summary>
    private void UpdateInterest(EpollConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        EpollInterest wanted = EpollInterest.None;
        bool closing = conn.State != LoopConnState.Open;
        if (closing ? !conn.PeerClosed : !conn.ReadPaused)
            wanted |= EpollInterest.Read;
        if (conn.Waiting is not null)
            wanted |= EpollInterest.Write;
        if (wanted == conn.Interest)
            return;
        uint events = ((wanted & EpollInterest.Read) != 0 ? Libc.EPOLLIN : 0) | ((wanted & EpollInterest.Write) != 0 ? Libc.EPOLLOUT : 0);
        if (Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_MOD, conn.Fd, events, (uint)conn.Fd) < 0)
        {
            Finish(conn);
            return;
        }

        conn.Interest = wanted;
    }

    // ---- reading and events ----------------------------------------------------------------------------------

    private void Dispatch(uint events, ulong data)
    {
        if (data == WakeTag)
        {
            ulong value;
            Libc.read(_wakeFd, &value, sizeof(ulong));
            Volatile.Write(ref _wakePending, 0);
            return;
        }

        if ((data & ListenerTag) != 0)
        {
            AcceptAll((int)(uint)data);
            return;
        }

        int fd = (int)(uint)data;
        EpollConn? conn = (uint)fd < (uint)_connections.Length ? _connections[fd] : null;
        if (conn is null)
            return;
        if ((events & Libc.EPOLLOUT) != 0)
            HandleWritable(conn);
        if ((events & (Libc.EPOLLIN | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0 && conn.State != LoopConnState.Closed)
            HandleReadable(conn, events);
    }

    private void HandleReadable(EpollConn conn, uint events)
    {
        if (conn.State != LoopConnState.Open)
        {
            // A hang-up after the peer's end of stream was seen would be reported again and again: give up.
            if (conn.PeerClosed && (events & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
                Finish(conn);
            else
                Discard(conn);
            return;
        }

        if (conn.ReadPaused)
        {
            // Only a hang-up or an error is reported while reading is paused: the peer is gone.
            if ((events & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
                Finish(conn);
            return;
        }

        int size = _options.ReceiveBufferSize;
        for (int reads = 0; reads < MaxReadsPerEvent; reads++)
        {
            nint n = Libc.recv(conn.Fd, _receiveBuffer, (nuint)size, 0);
            if (n > 0)
            {
                _corked = conn;
                _handler.OnData(conn, new Span<byte>(_receiveBuffer, (int)n));
                Uncork(conn);
                if (n < size || conn.State != LoopConnState.Open || conn.ReadPaused)
                    return;
                continue;
            }

            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EAGAIN)
                    return;
                if (errno == Errno.EINTR)
                    continue;
            }

            // End of stream, or a connection error (ECONNRESET, ETIMEDOUT ...).
            Finish(conn);
            return;
        }
    }

    /// <summary>Reads and drops input of a closing connection. The peer's end of stream (or an error) completes a
    /// lingering close; while still flushing, it only stops reading.</summary>
    private void Discard(EpollConn conn)
    {
        int size = _options.ReceiveBufferSize;
        for (int reads = 0; reads < MaxReadsPerEvent * 4; reads++)
        {
            nint n = Libc.recv(conn.Fd, _receiveBuffer, (nuint)size, 0);
            if (n > 0)
                continue;
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EAGAIN)
                    return;
                if (errno == Errno.EINTR)
                    continue;
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

    private void AcceptAll(int listenerIndex)
    {
        SocketListener listener;
        lock (_listeners)
            listener = _listeners[listenerIndex];
        for (int i = 0; i < MaxAcceptsPerEvent && listener.Fd >= 0; i++)
        {
            int fd;
            try
            {
                if (!listener.TryAccept(out fd))
                    return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Out of descriptors or memory. Level-triggered epoll would report the listener again at once, so
                // stop watching the listeners for a moment; the pending connections wait in the backlog.
                SetListenerInterest(0);
                _acceptResumeAt = Now + AcceptBackoffMilliseconds;
                return;
            }

            AddConnection(fd);
            DeliverCloses();
        }
    }

    private void RegisterOnLoop(object? state)
    {
        int fd = ((SocketConn)state!).Detach();
        if (_shuttingDown)
        {
            Libc.close(fd);
            return;
        }

        AddConnection(fd);
    }

    private void AddConnection(int fd)
    {
        if (_options.SocketSendBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, _options.SocketSendBufferSize);
        if (_options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, _options.SocketReceiveBufferSize);
        if (fd >= _connections.Length)
            Array.Resize(ref _connections, Math.Max(fd + 1, _connections.Length * 2));
        if (Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, (uint)fd) < 0)
        {
            Libc.close(fd);
            return;
        }

        var conn = new EpollConn(this, fd) { Interest = EpollInterest.Read };
        _connections[fd] = conn;
        _connectionCount++;
        _corked = conn;
        _handler.OnOpen(conn);
        Uncork(conn);
    }

    // ---- closing ---------------------------------------------------------------------------------------------

    internal void Close(EpollConn conn)
    {
        if (conn.State != LoopConnState.Open)
            return;
        conn.State = LoopConnState.Closing;
        conn.Deadline = Now + (long)_options.LingerTimeout.TotalMilliseconds;
        _closing.Add(conn);
        if (conn != _corked && conn.Waiting is null)
            BeginLinger(conn);
        else
            UpdateInterest(conn);
    }

    internal void Abort(EpollConn conn) => Finish(conn);

    /// <summary>Everything was flushed: shut down the sending side and wait for the peer's end of stream.</summary>
    private void BeginLinger(EpollConn conn)
    {
        if (Libc.shutdown(conn.Fd, Libc.SHUT_WR) < 0 || conn.PeerClosed)
        {
            Finish(conn);
            return;
        }

        conn.State = LoopConnState.Lingering;
        conn.Deadline = Now + (long)_options.LingerTimeout.TotalMilliseconds;
        UpdateInterest(conn);
    }

    /// <summary>Closes the descriptor now and queues <see cref="IConnectionHandler.OnClose"/>.</summary>
    private void Finish(EpollConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        conn.State = LoopConnState.Closed;
        if (conn == _corked)
            _corkLength = 0;
        ReleaseQueue(conn);
        _connections[conn.Fd] = null;
        Libc.close(conn.Fd);
        conn.Fd = -1;
        conn.Interest = EpollInterest.None;
        _connectionCount--;
        _pendingClose.Add(conn);
    }

    /// <summary>Calls OnClose for the connections that ended, outside any other callback.</summary>
    private void DeliverCloses()
    {
        if (_deliveringCloses || _pendingClose.Count == 0)
            return;
        _deliveringCloses = true;
        try
        {
            for (int i = 0; i < _pendingClose.Count; i++)
                _handler.OnClose(_pendingClose[i]);
            _pendingClose.Clear();
        }
        finally
        {
            _deliveringCloses = false;
        }
    }

    /// <summary>Closes connections whose flush or linger deadline passed and forgets those already closed.</summary>
    private void SweepClosing(long now)
    {
        _nextSweep = now + SweepMilliseconds;
        int kept = 0;
        for (int i = 0; i < _closing.Count; i++)
        {
            EpollConn conn = _closing[i];
            if (conn.State != LoopConnState.Closed && now >= conn.Deadline)
                Finish(conn);
            if (conn.State != LoopConnState.Closed)
                _closing[kept++] = conn;
        }

        _closing.RemoveRange(kept, _closing.Count - kept);
        DeliverCloses();
    }

    private void BeginShutdown(long now)
    {
        _shuttingDown = true;
        _drainDeadline = now + (long)_options.DrainTimeout.TotalMilliseconds;
        CloseListeners();
        _handler.OnShutdown();
        DeliverCloses();
    }

    private void AbortAll()
    {
        EpollConn?[] connections = _connections;
        for (int fd = 0; fd < connections.Length; fd++)
        {
            if (connections[fd] is { } conn)
                Finish(conn);
        }

        DeliverCloses();
    }

    /// <summary>Watches the listeners for <paramref name="events"/> (EPOLLIN, or 0 while accepting backs off).</summary>
    private void SetListenerInterest(uint events)
    {
        _acceptPaused = events == 0;
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                if (_listeners[i].Fd >= 0)
                    Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_MOD, _listeners[i].Fd, events, ListenerTag | (uint)i);
            }
        }
    }

    private void CloseListeners()
    {
        lock (_listeners)
        {
            foreach (SocketListener listener in _listeners)
                listener.Dispose();
        }
    }

    // ---- cross-thread work -----------------------------------------------------------------------------------

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) != 0)
            return;
        ulong one = 1;
        Libc.write(_wakeFd, &one, sizeof(ulong));
    }

    private void RunPosted()
    {
        for (int i = 0; i < MaxPostedPerTurn && _posted.TryDequeue(out PostedWork work); i++)
        {
            work.Action(work.State);
            DeliverCloses();
        }
    }

    private int WaitTimeout(long now, long nextTick)
    {
        if (!_posted.IsEmpty || _pendingClose.Count > 0)
            return 0;
        long timeout = nextTick - now;
        if (_closing.Count > 0)
            timeout = Math.Min(timeout, SweepMilliseconds);
        if (_acceptPaused)
            timeout = Math.Min(timeout, _acceptResumeAt - now);
        if (_shuttingDown)
            timeout = Math.Min(timeout, Math.Min(SweepMilliseconds, _drainDeadline - now));
        return (int)Math.Clamp(timeout, 0, TickMilliseconds);
    }

    private readonly record struct PostedWork(Action<object?> Action, object? State);
}
