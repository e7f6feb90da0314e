using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The connection an <see cref="IoUringReactor"/> hands to its handler: a descriptor, a few state bits, and only
/// while bytes are in flight or wait, a send buffer and a <see cref="SendQueue"/>. An idle connection holds no
/// buffer: its multishot receive takes one from the loop's provided buffer ring only when bytes arrive.
/// </summary>
/// <remarks>Writes are corked and backpressured by the loop; see <see cref="IReactorConn"/>.</remarks>
internal sealed unsafe class IoUringConn : IReactorConn, ILifecycleConn
{
    internal readonly IoUringReactor Loop;

    /// <summary>Slot (low 32 bits) and generation (next 24 bits): the low 56 bits of the user data of every
    /// operation of this connection, so that a completion finds it and a stale one is recognized.</summary>
    internal readonly ulong Key;

    /// <summary>The socket: a slot of the ring's direct descriptor table when <see cref="Direct"/>, else a
    /// descriptor; -1 once closed.</summary>
    internal int Fd;

    /// <summary><see cref="Fd"/> is a direct descriptor (operations on it carry IOSQE_FIXED_FILE).</summary>
    internal bool Direct;

    internal LoopConnState State;

    /// <summary>Operations in the kernel (the multishot receive, a send) whose last completion has not arrived:
    /// the connection's slot and send buffer are released only once this is 0.</summary>
    internal int Ops;

    /// <summary>A multishot receive is armed (its final completion has not arrived).</summary>
    internal bool RecvArmed;

    /// <summary>A cancellation of the armed receive was requested.</summary>
    internal bool RecvCancelling;

    /// <summary>Set while reading is paused because too many bytes wait; cleared when everything is flushed.</summary>
    internal bool ReadPaused;

    /// <summary>The peer's end of stream arrived while input was held (reading paused): it is acted on once the
    /// held input was delivered.</summary>
    internal bool InputEnded;

    /// <summary>Set when the peer's end of stream was seen while the connection was closing.</summary>
    internal bool PeerClosed;

    /// <summary>The send buffer (from the loop's pool) whose bytes <see cref="SendOffset"/> to
    /// <see cref="SendLength"/> are being sent, or null when nothing is in flight.</summary>
    internal byte* SendBuffer;

    internal int SendOffset;

    internal int SendLength;

    /// <summary>A send of <see cref="SendBuffer"/> is in the kernel.</summary>
    internal bool SendInFlight;

    /// <summary>Bytes accepted after those of <see cref="SendBuffer"/>, or null when none wait.</summary>
    internal SendQueue? Waiting;

    /// <summary>Input that arrived after reading was paused (a multishot receive is cancelled asynchronously),
    /// delivered in order when reading resumes; null when none is held.</summary>
    internal SendQueue? Held;

    /// <summary>While closing: when the loop gives up flushing or lingering and closes the descriptor.</summary>
    internal long Deadline;

    LoopConnState ILifecycleConn.State { get => State; set => State = value; }

    long ILifecycleConn.Deadline { get => Deadline; set => Deadline = value; }

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
    public long WaitingBytes => (SendLength - SendOffset) + (Waiting?.Length ?? 0);

    /// <summary>The loop owns reading (a multishot receive delivers input through
    /// <see cref="IConnectionHandler.OnData"/>), so a direct read never has bytes: returns
    /// <see cref="NetConn.WouldBlock"/> while the connection is open and 0 once it is closing or closed.</summary>
    public int Read(Span<byte> buffer) => State == LoopConnState.Open ? NetConn.WouldBlock : 0;

    /// <summary>Corked, backpressured write: returns <paramref name="data"/>'s length, or 0 when the connection is
    /// closing, closed, or was aborted because the waiting bytes would exceed <see cref="ReactorOptions.MaxBackpressure"/>.</summary>
    public int Write(ReadOnlySpan<byte> data) => Loop.Write(this, data);

    /// <summary>Graceful close: flush, shut down the sending side, discard input until the peer's end of stream
    /// or <see cref="ReactorOptions.LingerTimeout"/>, then close. Idempotent.</summary>
    public void Close() => Loop.Close(this);

    /// <inheritdoc/>
    public void Abort() => Loop.Abort(this);
}
