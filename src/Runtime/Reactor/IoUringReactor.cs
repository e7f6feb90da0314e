using System.Net;
using System.Runtime.InteropServices;
using WsGen.Native;
using WsGen.Reactor;
using WsGen.Transport;
using static WsGen.Native.IoUringAbi;

namespace WsGen;

/// <summary>
/// A Linux event loop over io_uring (Linux 6.0 and later, see <see cref="IsSupported"/>). One thread runs it
/// (<see cref="Run"/>); every handler callback runs there. Each loop turn is one <c>io_uring_enter</c> that
/// submits what the previous turn queued and waits for completions.
/// </summary>
/// <remarks>
/// <para>Accepting: one multishot accept per listener. Accepted sockets are direct descriptors: they live in the
/// ring's registered file table, not in the process's descriptor table, so operations on them skip the descriptor
/// lookup and a loop holds up to <see cref="MaxDirectDescriptors"/> connections whatever the process's descriptor
/// limit (RLIMIT_NOFILE) is, several loops together more. The table has as many slots as that limit allows (at
/// most <see cref="MaxDirectDescriptors"/>). The kernel accepts a connection before it looks for a free slot, and
/// drops it when there is none: so once few slots are free, the loop accepts one connection at a time, and with no
/// slot free it stops accepting until a connection closes. Connections meanwhile wait in the listen backlog, as they
/// do when the process runs out of descriptors. Socket options (TCP_NODELAY, buffer sizes) are set on the
/// listener, which accepted sockets inherit. Connections handed over with <see cref="Register"/> keep their plain
/// descriptor.</para>
/// <para>Reading: each connection has one multishot receive that takes its buffer from the loop's provided buffer
/// ring, so a connection waiting for input owns no buffer. Every completion hands
/// <see cref="IConnectionHandler.OnData"/> the slice of the buffer the kernel filled; the buffer goes back to the
/// ring as soon as OnData returns. When the ring runs dry the kernel ends the receive (ENOBUFS) and the loop arms
/// it again.</para>
/// <para>Writing: while a callback runs for connection X, writes to X gather in the loop's cork buffer; when the
/// callback returns they go out with one send: up to 512 bytes (a handshake response, small messages) from a
/// small buffer they are copied to, more from the cork buffer itself, which becomes X's send buffer (the loop takes
/// a fresh one from its pool). The send's state lives in a pooled object that only a sending connection holds.
/// While a send is in flight, later bytes wait in a pooled per-connection queue and go out,
/// in order, as each send completes (a short send is continued first). While more than
/// <see cref="ReactorOptions.PauseReadingThreshold"/> bytes are in flight or wait, the receive is cancelled; input
/// that the kernel had already taken is held and delivered, in order, once everything is flushed. A write that
/// would make the waiting bytes exceed <see cref="ReactorOptions.MaxBackpressure"/> aborts the connection.</para>
/// <para>Closing: as <see cref="EpollReactor"/> — flush, shut down the sending side, discard input until the peer's
/// end of stream or <see cref="ReactorOptions.LingerTimeout"/>, then close; <see cref="IConnectionHandler.OnClose"/>
/// runs once, after the callback in which the connection ended. A connection's slot and send buffer are reused
/// only after the kernel reported the end of all its operations.</para>
/// <para>Handler exceptions are not caught: they end <see cref="Run"/>. A loop runs once.</para>
/// </remarks>
public sealed unsafe class IoUringReactor : IServerReactor, ILifecycleHost<IoUringConn>, ILoopHost
{
    private const uint SubmissionEntries = 1024;
    private const uint CompletionEntries = 16384;
    private const int ReceiveBufferCount = 256;
    private const int MaxReceiveBufferSize = 64 * 1024;
    private const int MaxSendBufferSize = 64 * 1024;
    private const int MaxSpareSendBuffers = 128;
    private const int SmallSendSize = 512;
    private const ushort BufferGroup = 0;
    private const int SweepMilliseconds = ConnectionLifecycle<IoUringConn>.SweepMilliseconds;
    private const int QuiesceMilliseconds = 2000;

    /// <summary>With fewer free direct descriptor slots than this (or than half the table), accepts take one
    /// connection each.</summary>
    private const int SingleAcceptReserve = 128;

    private const ulong KeyMask = (1UL << 56) - 1;

    /// <summary>The most slots a loop's table of direct descriptors gets: 262,144 (2 MiB of kernel memory).</summary>
    public const int MaxDirectDescriptors = 1 << 18;

    private static readonly bool s_supported = Probe();

    private readonly IConnectionHandler _handler;
    private readonly ReactorOptions _options;
    private readonly IoUring _ring;
    private readonly IoUringBufferRing _receiveBuffers;
    private readonly int _wakeFd;
    private readonly ulong* _wakeValue;
    private readonly byte* _scratch;
    private readonly int _sendBufferSize;
    private readonly List<ListenerEntry> _listeners = [];
    private readonly ConnectionLifecycle<IoUringConn> _lifecycle;
    private readonly LoopCore<IoUringConn> _loop;
    private readonly Stack<SendQueue> _spareQueues = new();
    private readonly Stack<nint> _spareSendBuffers = new(MaxSpareSendBuffers);
    private readonly NativeChunks _smallSendBuffers = new(SmallSendSize);
    private readonly Stack<IoUringSend> _spareSends = new();
    private readonly Stack<int> _freeSlots = new();
    private readonly Action<object?> _armListeners;

    private readonly ConnectionTable<IoUringConn> _connections = new();
    private int _nextSlot;
    private uint _generation;
    private byte* _cork;
    private IoUringConn? _corked;
    private int _corkLength;
    private int _connectionCount;
    private int _directSlots;
    private int _directInUse;
    private int _singleAcceptsArmed;
    private bool _acceptWaitsForSlot;
    private long _inFlight;
    private bool _ran;
    private bool _stopping;

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    /// <exception cref="PlatformNotSupportedException">The kernel lacks what the loop needs (<see cref="IsSupported"/>).</exception>
    public IoUringReactor(IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("IoUringReactor needs Linux 6.0 or later with io_uring enabled.");
        _options = options ?? ReactorOptions.Default;
        _options.Validate();
        _handler = handler;
        _lifecycle = new ConnectionLifecycle<IoUringConn>(handler, _options, this);
        _loop = new LoopCore<IoUringConn>(handler, _lifecycle, this);
        _armListeners = _ => ArmListeners();

        // The ring is created disabled and enabled by Run, so that the loop thread becomes its single issuer.
        const uint common = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SUBMIT_ALL;
        _ring = IoUring.TryCreate(SubmissionEntries, CompletionEntries, common | IORING_SETUP_DEFER_TASKRUN, out _, out _)
            ?? IoUring.TryCreate(SubmissionEntries, CompletionEntries, common | IORING_SETUP_COOP_TASKRUN, out int errno, out _)
            ?? throw Errno.IOException("io_uring_setup", errno);
        try
        {
            int receiveSize = Math.Min(_options.ReceiveBufferSize, MaxReceiveBufferSize);
            _receiveBuffers = new IoUringBufferRing(_ring, BufferGroup, ReceiveBufferCount, receiveSize);
            // Blocking, so that the ring's read of it waits (a write only blocks if the counter would overflow).
            _wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
            if (_wakeFd < 0)
                throw Errno.IOException("eventfd", Errno.Last);
        }
        catch
        {
            _receiveBuffers?.Dispose();
            _ring.Dispose();
            throw;
        }

        _sendBufferSize = Math.Min(_options.SendBufferSize, MaxSendBufferSize);
        _wakeValue = (ulong*)NativeMemory.Alloc(sizeof(ulong));
        _scratch = (byte*)NativeMemory.Alloc((nuint)_receiveBuffers.BufferSize);
        _cork = RentSendBuffer();
    }

    /// <summary>True when the kernel offers what this loop needs: io_uring (not disabled), fast poll, extended
    /// enter arguments, single-issuer rings (Linux 6.0, which also brings multishot receive) and provided buffer
    /// rings. Probed once.</summary>
    public static bool IsSupported => s_supported;

    /// <inheritdoc/>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <inheritdoc/>
    public bool IsLoopThread => _loop.IsLoopThread;

    /// <summary>Whether accepted sockets become direct descriptors (the default), when the kernel allows; read when
    /// <see cref="Run"/> starts. Tests turn it off to cover plain descriptors.</summary>
    internal bool UseDirectDescriptors { get; set; } = true;

    /// <summary>Slots in the ring's direct descriptor table; 0 when accepted sockets are plain descriptors.</summary>
    internal int DirectDescriptorSlots => _directSlots;

    /// <summary>True while accepting waits for a free slot of the full direct descriptor table, with no accept armed
    /// (so the kernel accepts nothing meanwhile). Read on the loop thread; for tests.</summary>
    internal bool AcceptWaitsForSlot => _acceptWaitsForSlot;

    /// <summary>The most slots the direct descriptor table gets (it never exceeds RLIMIT_NOFILE either); read when
    /// <see cref="Run"/> starts. Tests lower it to fill the table.</summary>
    internal int DirectDescriptorLimit { get; set; } = MaxDirectDescriptors;

    private static long Now => Environment.TickCount64;

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        _loop.EnsureCanListen();
        var listener = new SocketListener(endPoint, _options.Backlog, _options.ReusePort);
        SetSocketOptions(listener.Fd);
        lock (_listeners)
            _listeners.Add(new ListenerEntry(listener));
        if (IsLoopThread)
            ArmListeners();
        else if (_loop.IsRunning)
            Post(_armListeners, null);
        return listener.LocalEndPoint;
    }

    /// <summary>Adds a connection: a <see cref="SocketConn"/>, whose descriptor the loop takes over.</summary>
    /// <exception cref="NotSupportedException"><paramref name="conn"/> is not a socket descriptor connection.</exception>
    public void Register(INetConn conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        if (conn is not SocketConn)
            throw new NotSupportedException($"IoUringReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        _loop.Register(conn);
    }

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state) => _loop.Post(action, state);

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken) => _loop.Run(cancellationToken);

    /// <summary>Before the first turn: the ring is enabled here, so that the loop thread becomes its single
    /// issuer; then the direct descriptor table, the wake-up read and the listeners' accepts.</summary>
    void ILoopHost.Starting()
    {
        if (_ran)
            throw new InvalidOperationException("An IoUringReactor runs once.");
        _ran = true;
        if (_ring.Register(IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
            throw Errno.IOException("io_uring_register (enable)", Errno.Last);
        RegisterDirectTable();
        ArmWake();
        ArmListeners();
    }

    /// <summary>One <c>io_uring_enter</c>: submits what the previous turn queued and waits for completions.</summary>
    void ILoopHost.WaitAndHandle(int timeoutMilliseconds)
    {
        _ring.SubmitAndWait(timeoutMilliseconds);
        ProcessCompletions();
    }

    void ILoopHost.ResumeAccepting() => ArmListeners();

    void ILoopHost.Stopped()
    {
        _lifecycle.AbortAll(_connections);
        Quiesce();
    }

    /// <summary>Closes the listeners, every remaining descriptor (without callbacks) and the ring.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose()
    {
        if (!_loop.TryBeginDispose())
            return;
        CloseListeners();
        _connections.ForEach(this, static (reactor, conn) =>
        {
            // Direct descriptors go with the ring.
            if (conn.Fd >= 0 && !conn.Direct)
                Libc.close(conn.Fd);
            conn.Fd = -1;
            conn.State = LoopConnState.Closed;
            reactor.ReleaseQueues(conn);
        });

        _loop.DropPosted();

        // Closing the ring ends whatever the kernel still holds before the memory it points to is freed.
        _receiveBuffers.Dispose();
        _ring.Dispose();
        _connections.ForEach(0, static (_, conn) =>
        {
            if (conn.Send is { } send)
            {
                if (!send.Small)
                    NativeMemory.Free(send.Buffer);
                conn.Send = null;
            }
        });

        _smallSendBuffers.Dispose();

        _connections.Clear();
        while (_spareSendBuffers.TryPop(out nint buffer))
            NativeMemory.Free((void*)buffer);
        Libc.close(_wakeFd);
        NativeMemory.Free(_wakeValue);
        NativeMemory.Free(_scratch);
        NativeMemory.Free(_cork);
    }

    // ---- completions -----------------------------------------------------------------------------------------

    private void ProcessCompletions()
    {
        while (_ring.TryPeek(out IoUringCqe cqe))
        {
            _ring.Advance();
            bool more = (cqe.Flags & IORING_CQE_F_MORE) != 0;
            if (!more)
                _inFlight--;
            switch ((Op)(cqe.UserData >> 56))
            {
                case Op.Recv:
                    OnReceived(in cqe, more);
                    break;
                case Op.Send:
                    OnSent(in cqe);
                    break;
                case Op.Accept:
                    OnAccepted(in cqe, more);
                    break;
                case Op.Wake:
                    OnWoken();
                    break;
                case Op.Shutdown:
                    OnShutdown(in cqe);
                    break;
                case Op.Close:
                    OnDirectClosed();
                    break;
            }

            DeliverCloses();
        }
    }

    private IoUringConn? Find(ulong userData)
    {
        IoUringConn? conn = _connections[(int)(uint)userData];
        return conn is not null && conn.Key == (userData & KeyMask) ? conn : null;
    }

    private static ulong Tag(Op op, ulong key) => ((ulong)op << 56) | key;

    // ---- reading ---------------------------------------------------------------------------------------------

    private void OnReceived(in IoUringCqe cqe, bool more)
    {
        bool hasBuffer = (cqe.Flags & IORING_CQE_F_BUFFER) != 0;
        ushort bufferId = (ushort)(cqe.Flags >> IORING_CQE_BUFFER_SHIFT);
        IoUringConn? conn = Find(cqe.UserData);
        if (conn is null)
        {
            if (hasBuffer)
                _receiveBuffers.Recycle(bufferId);
            return;
        }

        if (!more)
        {
            conn.RecvArmed = false;
            conn.RecvCancelling = false;
            conn.Ops--;
        }

        int result = cqe.Result;
        if (result > 0 && hasBuffer)
        {
            Received(conn, _receiveBuffers.Get(bufferId, result));
            _receiveBuffers.Recycle(bufferId);
        }
        else
        {
            if (hasBuffer)
                _receiveBuffers.Recycle(bufferId);
            if (result == 0)
                InputEnded(conn);
            else if (result != -Errno.ENOBUFS && result != -ECANCELED && result != -Errno.EAGAIN)
                Finish(conn);
        }

        if (conn.State == LoopConnState.Closed)
        {
            if (conn.Ops == 0)
                ReleaseSlot(conn);
        }
        else if (!conn.RecvArmed)
        {
            UpdateReading(conn);
        }
    }

    /// <summary>Hands input to the handler, holds it while reading is paused, or drops it while closing.</summary>
    private void Received(IoUringConn conn, Span<byte> data)
    {
        if (conn.State != LoopConnState.Open)
            return;
        if (conn.ReadPaused || conn.Held is not null)
        {
            Hold(conn, data);
            return;
        }

        _corked = conn;
        _handler.OnData(conn, data);
        Uncork(conn);
    }

    /// <summary>Keeps input the kernel delivered after reading was paused, to hand it over when reading resumes.</summary>
    private void Hold(IoUringConn conn, ReadOnlySpan<byte> data)
    {
        SendQueue held = conn.Held ??= RentQueue();
        if (held.Length + data.Length > _options.MaxBackpressure)
        {
            Finish(conn);
            return;
        }

        held.Append(data);
        UpdateReading(conn);
    }

    /// <summary>The peer's end of stream: closes an open connection (once held input was delivered), completes a
    /// lingering close, and stops reading a connection that is still flushing.</summary>
    private void InputEnded(IoUringConn conn)
    {
        switch (conn.State)
        {
            case LoopConnState.Open when conn.ReadPaused || conn.Held is not null:
                conn.InputEnded = true;
                break;
            case LoopConnState.Open:
            case LoopConnState.Lingering:
                Finish(conn);
                break;
            case LoopConnState.Closing:
                conn.PeerClosed = true;
                break;
        }
    }

    /// <summary>Delivers held input after reading resumed, as long as the connection does not pause again.</summary>
    private void DeliverHeld(IoUringConn conn)
    {
        while (conn.State == LoopConnState.Open && !conn.ReadPaused && conn.Held is { } held)
        {
            if (held.IsEmpty)
            {
                conn.Held = null;
                ReturnQueue(held);
                break;
            }

            ReadOnlySpan<byte> first = held.First;
            int n = Math.Min(first.Length, _receiveBuffers.BufferSize);
            first[..n].CopyTo(new Span<byte>(_scratch, n));
            held.Consume(n);
            _corked = conn;
            _handler.OnData(conn, new Span<byte>(_scratch, n));
            Uncork(conn);
        }

        if (conn.State == LoopConnState.Open && !conn.ReadPaused && conn.Held is null && conn.InputEnded)
            Finish(conn);
    }

    /// <summary>Arms the multishot receive when <paramref name="conn"/> should read (open and not paused, or
    /// closing until the peer's end of stream) and cancels it when it should not.</summary>
    private void UpdateReading(IoUringConn conn)
    {
        if (conn.State == LoopConnState.Closed || _stopping)
            return;
        bool wanted = conn.State == LoopConnState.Open
            ? !conn.ReadPaused && conn.Held is null && !conn.InputEnded
            : !conn.PeerClosed;
        if (wanted && !conn.RecvArmed)
        {
            IoUringSqe* sqe = _ring.NextSqe();
            sqe->Opcode = IORING_OP_RECV;
            sqe->Fd = conn.Fd;
            sqe->Flags = (byte)(IOSQE_BUFFER_SELECT | FileFlag(conn));
            sqe->BufferGroup = BufferGroup;
            sqe->IoPrio = IORING_RECV_MULTISHOT;
            sqe->UserData = Tag(Op.Recv, conn.Key);
            conn.RecvArmed = true;
            conn.Ops++;
            _inFlight++;
        }
        else if (!wanted && conn.RecvArmed && !conn.RecvCancelling)
        {
            Cancel(Tag(Op.Recv, conn.Key));
            conn.RecvCancelling = true;
        }
    }

    private void Cancel(ulong userData)
    {
        IoUringSqe* sqe = _ring.NextSqe();
        sqe->Opcode = IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->Address = userData;
        sqe->UserData = (ulong)Op.Cancel << 56;
        _inFlight++;
    }

    // ---- writing ---------------------------------------------------------------------------------------------

    internal int Write(IoUringConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.State != LoopConnState.Open || data.IsEmpty)
            return 0;
        if (_loop.IsOtherThreadWhileRunning)
            throw new InvalidOperationException("Write on the loop thread (use IEventLoop.Post).");

        if (conn == _corked)
        {
            if (data.Length <= _sendBufferSize - _corkLength)
            {
                data.CopyTo(new Span<byte>(_cork + _corkLength, data.Length));
                _corkLength += data.Length;
                return data.Length;
            }

            FlushCork(conn);
            if (conn.State != LoopConnState.Open)
                return 0;
            if (data.Length <= _sendBufferSize)
            {
                data.CopyTo(new Span<byte>(_cork, data.Length));
                _corkLength = data.Length;
                return data.Length;
            }
        }

        return Stage(conn, data) ? data.Length : 0;
    }

    /// <summary>The next <paramref name="length"/> bytes of the cork, taken for <paramref name="conn"/> to fill, or an
    /// empty span when <see cref="Write"/> must handle the bytes instead (see <see cref="ICorkedOutput.TakeCorked"/>).
    /// Bytes of a send in flight or waiting behind it are no obstacle: the cork goes out after them.</summary>
    internal Span<byte> TakeCorked(IoUringConn conn, int length)
    {
        int used = _corkLength;
        if (conn != _corked || conn.State != LoopConnState.Open || (uint)length > (uint)(_sendBufferSize - used)
            || Environment.CurrentManagedThreadId != _loop.LoopThreadId)
            return default;
        _corkLength = used + length;
        return new Span<byte>(_cork + used, length);
    }

    /// <summary>Puts <paramref name="data"/> behind every byte already accepted for <paramref name="conn"/>: into a
    /// new send when none is in flight, into the waiting queue otherwise. False when the connection was aborted.</summary>
    private bool Stage(IoUringConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.Send is null)
        {
            int n = Math.Min(data.Length, _sendBufferSize);
            bool small = n <= SmallSendSize;
            byte* buffer = small ? _smallSendBuffers.Rent() : RentSendBuffer();
            data[..n].CopyTo(new Span<byte>(buffer, n));
            StartSend(conn, buffer, n, small);
            data = data[n..];
            if (data.IsEmpty)
            {
                CheckPause(conn);
                return true;
            }
        }

        return Enqueue(conn, data);
    }

    /// <summary>Keeps bytes behind the send in flight. Returns false when that would exceed
    /// <see cref="ReactorOptions.MaxBackpressure"/>: the connection is then aborted.</summary>
    private bool Enqueue(IoUringConn conn, ReadOnlySpan<byte> data)
    {
        if (conn.WaitingBytes + data.Length > _options.MaxBackpressure)
        {
            Finish(conn);
            return false;
        }

        // Bytes only wait behind a send.
        (conn.Send!.Waiting ??= RentQueue()).Append(data);
        CheckPause(conn);
        return true;
    }

    private void CheckPause(IoUringConn conn)
    {
        if (!conn.ReadPaused && conn.WaitingBytes > _options.PauseReadingThreshold)
        {
            conn.ReadPaused = true;
            UpdateReading(conn);
        }
    }

    /// <summary>Sends the cork's bytes when nothing is in flight: a few hundred bytes (a handshake response, small
    /// messages) are copied to a small buffer, more make the cork buffer itself the connection's send buffer.
    /// Otherwise they join the waiting queue.</summary>
    private void FlushCork(IoUringConn conn)
    {
        int length = _corkLength;
        _corkLength = 0;
        if (length == 0 || conn.State == LoopConnState.Closed)
            return;
        if (conn.Send is not null)
        {
            Enqueue(conn, new ReadOnlySpan<byte>(_cork, length));
            return;
        }

        bool small = length <= SmallSendSize;
        byte* buffer;
        if (small)
        {
            buffer = _smallSendBuffers.Rent();
            new ReadOnlySpan<byte>(_cork, length).CopyTo(new Span<byte>(buffer, length));
        }
        else
        {
            buffer = _cork;
            _cork = RentSendBuffer();
        }

        StartSend(conn, buffer, length, small);
        CheckPause(conn);
    }

    /// <summary>Ends the corked section of a callback for <paramref name="conn"/>: flushes the cork, and continues
    /// a graceful close that was waiting for it.</summary>
    private void Uncork(IoUringConn conn)
    {
        FlushCork(conn);
        _corked = null;
        if (conn.State == LoopConnState.Closing && conn.Send is null)
            BeginLinger(conn);
    }

    private void StartSend(IoUringConn conn, byte* buffer, int length, bool small)
    {
        IoUringSend send = _spareSends.Count > 0 ? _spareSends.Pop() : new IoUringSend();
        send.Buffer = buffer;
        send.Small = small;
        send.Offset = 0;
        send.Length = length;
        conn.Send = send;
        SubmitSend(conn);
    }

    private void SubmitSend(IoUringConn conn)
    {
        IoUringSqe* sqe = _ring.NextSqe();
        sqe->Opcode = IORING_OP_SEND;
        sqe->Fd = conn.Fd;
        sqe->Flags = FileFlag(conn);
        IoUringSend send = conn.Send!;
        sqe->Address = (ulong)(send.Buffer + send.Offset);
        sqe->Length = (uint)(send.Length - send.Offset);
        sqe->OpFlags = Libc.MSG_NOSIGNAL;
        sqe->UserData = Tag(Op.Send, conn.Key);
        conn.SendInFlight = true;
        conn.Ops++;
        _inFlight++;
    }

    private void OnSent(in IoUringCqe cqe)
    {
        IoUringConn? conn = Find(cqe.UserData);
        if (conn is null)
            return;
        conn.SendInFlight = false;
        conn.Ops--;
        if (conn.State == LoopConnState.Closed)
        {
            ReturnSend(conn);
            if (conn.Ops == 0)
                ReleaseSlot(conn);
            return;
        }

        int result = cqe.Result;
        if (result < 0)
        {
            if (result == -Errno.EAGAIN || result == -Errno.EINTR)
                SubmitSend(conn);
            else
                Finish(conn);
            return;
        }

        IoUringSend send = conn.Send!;
        send.Offset += result;
        if (send.Offset < send.Length)
        {
            SubmitSend(conn);
            return;
        }

        SendQueue? queue = send.Waiting;
        if (queue is not null && !queue.IsEmpty)
        {
            // The next bytes in line go out in the same buffer, unless that is a small one.
            if (send.Small)
            {
                _smallSendBuffers.Return(send.Buffer);
                send.Buffer = RentSendBuffer();
                send.Small = false;
            }

            int n = 0;
            while (n < _sendBufferSize && !queue.IsEmpty)
            {
                ReadOnlySpan<byte> first = queue.First;
                int take = Math.Min(first.Length, _sendBufferSize - n);
                first[..take].CopyTo(new Span<byte>(send.Buffer + n, take));
                queue.Consume(take);
                n += take;
            }

            send.Offset = 0;
            send.Length = n;
            SubmitSend(conn);
            return;
        }

        // Everything accepted so far was handed to the socket.
        bool drained = queue is not null;
        ReturnSend(conn);

        bool wasPaused = conn.ReadPaused;
        conn.ReadPaused = false;
        if (conn.State == LoopConnState.Closing)
        {
            BeginLinger(conn);
            return;
        }

        if (conn.State != LoopConnState.Open)
            return;
        if (drained)
        {
            _corked = conn;
            _handler.OnWritable(conn);
            Uncork(conn);
        }

        if (wasPaused)
            DeliverHeld(conn);
        UpdateReading(conn);
    }

    private byte* RentSendBuffer()
        => _spareSendBuffers.TryPop(out nint buffer) ? (byte*)buffer : (byte*)NativeMemory.Alloc((nuint)_sendBufferSize);

    /// <summary>Ends the connection's send: its buffer goes back to the loop's pools, and so do its waiting queue
    /// (if any) and the send itself.</summary>
    private void ReturnSend(IoUringConn conn)
    {
        IoUringSend? send = conn.Send;
        if (send is null)
            return;
        conn.Send = null;
        if (send.Small)
            _smallSendBuffers.Return(send.Buffer);
        else if (_spareSendBuffers.Count < MaxSpareSendBuffers)
            _spareSendBuffers.Push((nint)send.Buffer);
        else
            NativeMemory.Free(send.Buffer);
        send.Buffer = null;
        if (send.Waiting is { } waiting)
        {
            send.Waiting = null;
            ReturnQueue(waiting);
        }

        _spareSends.Push(send);
    }

    private SendQueue RentQueue() => _spareQueues.Count > 0 ? _spareQueues.Pop() : new SendQueue(_options.BackpressurePool);

    private void ReturnQueue(SendQueue queue)
    {
        queue.Clear();
        _spareQueues.Push(queue);
    }

    private void ReleaseQueues(IoUringConn conn)
    {
        if (conn.Send?.Waiting is { } waiting)
        {
            conn.Send.Waiting = null;
            ReturnQueue(waiting);
        }

        if (conn.Held is { } held)
        {
            conn.Held = null;
            ReturnQueue(held);
        }
    }

    // ---- accepting -------------------------------------------------------------------------------------------

    /// <summary>Free slots of the direct descriptor table below which accepts take one connection each, so that a
    /// burst of connections cannot be accepted into a full table (the kernel would drop them).</summary>
    private int SingleAcceptBelow => Math.Min(SingleAcceptReserve, _directSlots / 2);

    /// <summary>Free direct descriptor slots, less those that armed one-connection accepts may take.</summary>
    private int FreeDirectSlots => _directSlots - _directInUse - _singleAcceptsArmed;

    /// <summary>Arms an accept on every open listener that has none: multishot while the direct descriptor table
    /// has room to spare, one connection at a time when few slots are free, none when the table is full.</summary>
    private void ArmListeners()
    {
        _loop.ClearAcceptPause();
        if (_lifecycle.ShuttingDown || _stopping)
            return;
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                ListenerEntry entry = _listeners[i];
                if (entry.Armed || entry.Listener.Fd < 0)
                    continue;
                bool single = false;
                if (_directSlots > 0)
                {
                    int free = FreeDirectSlots;
                    if (free <= 0)
                    {
                        _acceptWaitsForSlot = true;
                        return;
                    }

                    single = free <= SingleAcceptBelow;
                }

                IoUringSqe* sqe = _ring.NextSqe();
                sqe->Opcode = IORING_OP_ACCEPT;
                sqe->Fd = entry.Listener.Fd;
                if (_directSlots > 0)
                    sqe->FileIndex = unchecked((int)IORING_FILE_INDEX_ALLOC);
                else
                    sqe->OpFlags = Libc.SOCK_CLOEXEC;
                sqe->IoPrio = single ? (ushort)0 : IORING_ACCEPT_MULTISHOT;
                sqe->UserData = Tag(Op.Accept, (uint)i);
                entry.Armed = true;
                entry.Single = single;
                entry.Cancelling = false;
                if (single)
                    _singleAcceptsArmed++;
                _inFlight++;
            }
        }
    }

    private void OnAccepted(in IoUringCqe cqe, bool more)
    {
        ListenerEntry entry;
        lock (_listeners)
            entry = _listeners[(int)(uint)cqe.UserData];
        if (!more)
        {
            entry.Armed = false;
            if (entry.Single)
                _singleAcceptsArmed--;
        }

        int result = cqe.Result;
        if (result >= 0)
        {
            bool direct = _directSlots > 0;
            if (direct)
            {
                _directInUse++;
                // A multishot accept would go on taking connections while the table fills: it gives way to
                // one-connection accepts (armed again when its cancellation completes).
                if (more && !entry.Cancelling && FreeDirectSlots <= SingleAcceptBelow)
                {
                    Cancel(Tag(Op.Accept, (uint)cqe.UserData));
                    entry.Cancelling = true;
                }
            }

            if (!_lifecycle.ShuttingDown && !_stopping)
                AddConnection(result, direct);
            else if (direct)
                CloseDirect(result);
            else
                Libc.close(result);
        }
        else if (!more && result is -Errno.EMFILE or -Errno.ENFILE or -Errno.ENOMEM or -Errno.ENOBUFS)
        {
            // Out of descriptors or memory: the pending connections wait in the backlog for a moment.
            _loop.PauseAccepting();
            return;
        }

        if (!entry.Armed && !_loop.AcceptPaused)
            ArmListeners();
    }

    void ILoopHost.RegisterOnLoop(object state)
    {
        int fd = ((SocketConn)state).Detach();
        if (_lifecycle.ShuttingDown)
        {
            Libc.close(fd);
            return;
        }

        SetSocketOptions(fd);
        AddConnection(fd, direct: false);
    }

    void ILoopHost.DropRegistration(object state) => ((SocketConn)state).Close();

    /// <summary>TCP_NODELAY and the configured socket buffer sizes: on a listener, for the sockets it accepts.</summary>
    private void SetSocketOptions(int fd)
    {
        Libc.SetIntOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1);
        if (_options.SocketSendBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, _options.SocketSendBufferSize);
        if (_options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, _options.SocketReceiveBufferSize);
    }

    /// <summary>Gives the ring a table of <see cref="MaxDirectDescriptors"/> slots at most (fewer when the
    /// descriptor limit is lower, which the kernel enforces), for the sockets its accepts create. Without one
    /// (the registration failed) accepted sockets are plain descriptors.</summary>
    private void RegisterDirectTable()
    {
        if (!UseDirectDescriptors)
            return;
        long limit = Libc.OpenFileLimit();
        uint slots = (uint)Math.Clamp(limit, 0, Math.Min(DirectDescriptorLimit, MaxDirectDescriptors));
        if (slots == 0)
            return;
        IoUringRsrcRegister table = default;
        table.Count = slots;
        table.Flags = IORING_RSRC_REGISTER_SPARSE;
        if (_ring.Register(IORING_REGISTER_FILES2, &table, (uint)sizeof(IoUringRsrcRegister)) >= 0)
            _directSlots = (int)slots;
    }

    private void AddConnection(int fd, bool direct)
    {
        int slot;
        if (!_freeSlots.TryPop(out slot))
            slot = _nextSlot++;

        _generation = (_generation + 1) & 0xFFFFFF;
        var conn = new IoUringConn(this, fd, ((ulong)_generation << 32) | (uint)slot) { Direct = direct };
        _connections[slot] = conn;
        _connectionCount++;
        _corked = conn;
        _handler.OnOpen(conn);
        Uncork(conn);
        UpdateReading(conn);
    }

    // ---- closing ---------------------------------------------------------------------------------------------

    internal void Close(IoUringConn conn)
    {
        if (!_lifecycle.TryBeginClose(conn, Now))
            return;
        conn.PeerClosed |= conn.InputEnded;
        if (conn.Held is { } held)
        {
            conn.Held = null;
            ReturnQueue(held);
        }

        if (conn != _corked && conn.Send is null)
            BeginLinger(conn);
        else
            UpdateReading(conn);
    }

    internal void Abort(IoUringConn conn) => Finish(conn);

    /// <summary>Everything was flushed: shut down the sending side and wait for the peer's end of stream.</summary>
    private void BeginLinger(IoUringConn conn)
    {
        if (conn.PeerClosed || (!conn.Direct && Libc.shutdown(conn.Fd, Libc.SHUT_WR) < 0))
        {
            Finish(conn);
            return;
        }

        if (conn.Direct)
        {
            IoUringSqe* sqe = _ring.NextSqe();
            sqe->Opcode = IORING_OP_SHUTDOWN;
            sqe->Fd = conn.Fd;
            sqe->Flags = IOSQE_FIXED_FILE;
            sqe->Length = (uint)Libc.SHUT_WR;
            sqe->UserData = Tag(Op.Shutdown, conn.Key);
            conn.ShutdownInFlight = true;
            conn.Ops++;
            _inFlight++;
        }

        _lifecycle.BeginLinger(conn, Now);
        UpdateReading(conn);
    }

    /// <summary>Closes the descriptor now, cancels the connection's operations and queues
    /// <see cref="IConnectionHandler.OnClose"/>.</summary>
    private void Finish(IoUringConn conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        conn.State = LoopConnState.Closed;
        if (conn == _corked)
            _corkLength = 0;
        ReleaseQueues(conn);
        if (conn.RecvArmed && !conn.RecvCancelling)
        {
            Cancel(Tag(Op.Recv, conn.Key));
            conn.RecvCancelling = true;
        }

        if (conn.SendInFlight)
            Cancel(Tag(Op.Send, conn.Key));
        else
            ReturnSend(conn);

        // The kernel keeps the socket open until the cancelled operations completed. A shutdown still in flight
        // looks the direct descriptor up only when it runs: the slot is freed once it completed (OnShutdown), so
        // that it cannot hit a socket accepted into the same slot meanwhile.
        if (!conn.Direct)
            Libc.close(conn.Fd);
        else if (!conn.ShutdownInFlight)
            CloseDirect(conn.Fd);
        if (!conn.ShutdownInFlight)
            conn.Fd = -1;
        _connectionCount--;
        _lifecycle.QueueClose(conn);
        if (conn.Ops == 0)
            ReleaseSlot(conn);
    }

    /// <summary>Frees slot <paramref name="index"/> of the direct descriptor table, which closes its socket once no
    /// operation uses it any more.</summary>
    private void CloseDirect(int index)
    {
        IoUringSqe* sqe = _ring.NextSqe();
        sqe->Opcode = IORING_OP_CLOSE;
        sqe->FileIndex = index + 1;
        sqe->UserData = (ulong)Op.Close << 56;
        _inFlight++;
    }

    /// <summary>A slot of the direct descriptor table is free again: accepting resumes if it waited for one.</summary>
    private void OnDirectClosed()
    {
        _directInUse--;
        if (_acceptWaitsForSlot && !_loop.AcceptPaused)
        {
            _acceptWaitsForSlot = false;
            ArmListeners();
        }
    }

    /// <summary>A direct descriptor's SHUT_WR completed: a connection that was finished meanwhile frees its slot
    /// now, and a lingering one whose shutdown failed (the peer is gone) closes.</summary>
    private void OnShutdown(in IoUringCqe cqe)
    {
        IoUringConn? conn = Find(cqe.UserData);
        if (conn is null)
            return;
        conn.ShutdownInFlight = false;
        conn.Ops--;
        if (conn.State == LoopConnState.Closed)
        {
            CloseDirect(conn.Fd);
            conn.Fd = -1;
            if (conn.Ops == 0)
                ReleaseSlot(conn);
        }
        else if (cqe.Result < 0 && conn.State == LoopConnState.Lingering)
        {
            Finish(conn);
        }
    }

    private static byte FileFlag(IoUringConn conn) => conn.Direct ? IOSQE_FIXED_FILE : (byte)0;

    private void ReleaseSlot(IoUringConn conn)
    {
        int slot = conn.Slot;
        if (_connections[slot] != conn)
            return;
        _connections[slot] = null;
        _freeSlots.Push(slot);
    }

    private void DeliverCloses() => _lifecycle.DeliverCloses();

    void ILifecycleHost<IoUringConn>.Finish(IoUringConn conn) => Finish(conn);

    void ILifecycleHost<IoUringConn>.CloseListeners() => CloseListeners();

    /// <summary>Cancels everything still in the kernel and waits (bounded) for the last completions, so that no
    /// operation outlives the loop while it still points at the loop's buffers.</summary>
    private void Quiesce()
    {
        _stopping = true;
        IoUringSqe* sqe = _ring.NextSqe();
        sqe->Opcode = IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->OpFlags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
        sqe->UserData = (ulong)Op.Cancel << 56;
        _inFlight++;
        long deadline = Now + QuiesceMilliseconds;
        while (_inFlight > 0 && Now < deadline)
        {
            _ring.SubmitAndWait(SweepMilliseconds);
            ProcessCompletions();
        }
    }

    private void CloseListeners()
    {
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                ListenerEntry entry = _listeners[i];
                if (entry.Armed && IsLoopThread)
                    Cancel(Tag(Op.Accept, (uint)i));
                entry.Listener.Dispose();
            }
        }
    }

    // ---- cross-thread work -----------------------------------------------------------------------------------

    void ILoopHost.Signal()
    {
        ulong one = 1;
        Libc.write(_wakeFd, &one, sizeof(ulong));
    }

    private void ArmWake()
    {
        IoUringSqe* sqe = _ring.NextSqe();
        sqe->Opcode = IORING_OP_READ;
        sqe->Fd = _wakeFd;
        sqe->Address = (ulong)_wakeValue;
        sqe->Length = sizeof(ulong);
        sqe->Offset = ulong.MaxValue;
        sqe->UserData = (ulong)Op.Wake << 56;
        _inFlight++;
    }

    private void OnWoken()
    {
        _loop.WakeConsumed();
        if (!_stopping)
            ArmWake();
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            using IoUring? ring = IoUring.TryCreate(4, 8, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED, out _, out _);
            if (ring is null)
                return false;
            using var buffers = new IoUringBufferRing(ring, BufferGroup, 1, 64);
            return true;
        }
        catch (Exception e) when (e is IOException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    private enum Op : byte
    {
        Accept = 1,
        Recv = 2,
        Send = 3,
        Wake = 4,
        Cancel = 5,
        Shutdown = 6,
        Close = 7,
    }

    private sealed class ListenerEntry(SocketListener listener)
    {
        public readonly SocketListener Listener = listener;

        /// <summary>An accept is in the kernel for this listener.</summary>
        public bool Armed;

        /// <summary>That accept takes one connection (not multishot).</summary>
        public bool Single;

        /// <summary>That multishot accept is being cancelled.</summary>
        public bool Cancelling;
    }
}
