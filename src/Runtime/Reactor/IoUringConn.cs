using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The connection an <see cref="IoUringReactor"/> hands to its handler: a socket (usually a direct descriptor), a
/// byte of state bits, and only while it sends, an <see cref="IoUringSend"/> (buffer and waiting bytes). An idle
/// connection holds no buffer: its multishot receive takes one from the loop's provided buffer ring only when bytes
/// arrive. It takes 64 bytes of managed heap.
/// </summary>
/// <remarks>Writes are corked and backpressured by the loop; see <see cref="IReactorConn"/>.</remarks>
internal sealed unsafe class IoUringConn : IReactorConn, ILifecycleConn, ICorkedOutput
{
    internal readonly IoUringReactor Loop;

    /// <summary>Slot (low 32 bits) and generation (next 24 bits): the low 56 bits of the user data of every
    /// operation of this connection, so that a completion finds it and a stale one is recognized.</summary>
    internal readonly ulong Key;

    /// <summary>The socket: a slot of the ring's direct descriptor table when <see cref="Direct"/>, else a
    /// descriptor; -1 once closed.</summary>
    internal int Fd;

    internal LoopConnState State;

    /// <summary>Operations in the kernel (the multishot receive, a send, a shutdown) whose last completion has not arrived:
    /// the connection's slot and send buffer are released only once this is 0.</summary>
    internal byte Ops;

    private IoUringConnFlags _flags;

    /// <summary><see cref="Fd"/> is a direct descriptor (operations on it carry IOSQE_FIXED_FILE).</summary>
    internal bool Direct { get => Has(IoUringConnFlags.Direct); set => Set(IoUringConnFlags.Direct, value); }

    /// <summary>A multishot receive is armed (its final completion has not arrived).</summary>
    internal bool RecvArmed { get => Has(IoUringConnFlags.RecvArmed); set => Set(IoUringConnFlags.RecvArmed, value); }

    /// <summary>A cancellation of the armed receive was requested.</summary>
    internal bool RecvCancelling { get => Has(IoUringConnFlags.RecvCancelling); set => Set(IoUringConnFlags.RecvCancelling, value); }

    /// <summary>Set while reading is paused because too many bytes wait; cleared when everything is flushed.</summary>
    internal bool ReadPaused { get => Has(IoUringConnFlags.ReadPaused); set => Set(IoUringConnFlags.ReadPaused, value); }

    /// <summary>The peer's end of stream arrived while input was held (reading paused): it is acted on once the
    /// held input was delivered.</summary>
    internal bool InputEnded { get => Has(IoUringConnFlags.InputEnded); set => Set(IoUringConnFlags.InputEnded, value); }

    /// <summary>Set when the peer's end of stream was seen while the connection was closing.</summary>
    internal bool PeerClosed { get => Has(IoUringConnFlags.PeerClosed); set => Set(IoUringConnFlags.PeerClosed, value); }

    /// <summary>A send of <see cref="Send"/>'s buffer is in the kernel.</summary>
    internal bool SendInFlight { get => Has(IoUringConnFlags.SendInFlight); set => Set(IoUringConnFlags.SendInFlight, value); }

    /// <summary>A shutdown of the direct descriptor is in the kernel; the descriptor is closed only after it.</summary>
    internal bool ShutdownInFlight { get => Has(IoUringConnFlags.ShutdownInFlight); set => Set(IoUringConnFlags.ShutdownInFlight, value); }

    /// <summary>The send in progress (buffer, progress and the bytes waiting behind it), or null when nothing is
    /// being sent: only a connection that is sending holds one.</summary>
    internal IoUringSend? Send;

    /// <summary>Input that arrived after reading was paused (a multishot receive is cancelled asynchronously),
    /// delivered in order when reading resumes; null when none is held.</summary>
    internal SendQueue? Held;

    LoopConnState ILifecycleConn.State { get => State; set => State = value; }

    internal IoUringConn(IoUringReactor loop, int fd, ulong key)
    {
        Loop = loop;
        Fd = fd;
        Key = key;
    }

    /// <summary>The connection's slot in the loop's table.</summary>
    internal int Slot => (int)(uint)Key;

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <summary>Bytes in flight to the socket plus those waiting behind them.</summary>
    public long WaitingBytes => Send is { } send ? send.Length - send.Offset + (send.Waiting?.Length ?? 0) : 0;

    /// <summary>The loop owns reading (a multishot receive delivers input through
    /// <see cref="IConnectionHandler.OnData"/>), so a direct read never has bytes: returns
    /// <see cref="NetConn.WouldBlock"/> while the connection is open and 0 once it is closing or closed.</summary>
    public int Read(Span<byte> buffer) => State == LoopConnState.Open ? NetConn.WouldBlock : 0;

    /// <summary>Corked, backpressured write: returns <paramref name="data"/>'s length, or 0 when the connection is
    /// closing, closed, or was aborted because the waiting bytes would exceed <see cref="ReactorOptions.MaxBackpressure"/>.</summary>
    public int Write(ReadOnlySpan<byte> data) => Loop.Write(this, data);

    /// <inheritdoc/>
    public Span<byte> TakeCorked(int length) => Loop.TakeCorked(this, length);

    /// <summary>Graceful close: flush, shut down the sending side, discard input until the peer's end of stream
    /// or <see cref="ReactorOptions.LingerTimeout"/>, then close. Idempotent.</summary>
    public void Close() => Loop.Close(this);

    /// <inheritdoc/>
    public void Abort() => Loop.Abort(this);

    private bool Has(IoUringConnFlags flag) => (_flags & flag) != 0;

    private void Set(IoUringConnFlags flag, bool value) => _flags = value ? _flags | flag : _flags & ~flag;
}

/// <summary>State bits of an <see cref="IoUringConn"/>, one byte for all of them.</summary>
[Flags]
internal enum IoUringConnFlags : byte
{
    None = 0,
    Direct = 1 << 0,
    RecvArmed = 1 << 1,
    RecvCancelling = 1 << 2,
    ReadPaused = 1 << 3,
    InputEnded = 1 << 4,
    PeerClosed = 1 << 5,
    SendInFlight = 1 << 6,
    ShutdownInFlight = 1 << 7,
}

/// <summary>
/// A connection's send in progress, pooled by its loop: the buffer whose bytes <see cref="Offset"/> to
/// <see cref="Length"/> are being sent and the bytes accepted after them. Kept off <see cref="IoUringConn"/> so
/// that an idle connection spends no bytes on it.
/// </summary>
internal sealed unsafe class IoUringSend
{
    /// <summary>The loop's send buffer: one of its small buffers when <see cref="Small"/>, else a full-size one.</summary>
    internal byte* Buffer;

    internal int Offset;

    internal int Length;

    internal bool Small;

    /// <summary>Bytes accepted after those of <see cref="Buffer"/>, or null when none wait.</summary>
    internal SendQueue? Waiting;
}
