using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The connection every loop hands to its <see cref="IConnectionHandler"/>: its state in the
/// <see cref="ConnectionCore{TBackend}"/> state machine, and the few fields a backend keeps per connection.
/// </summary>
/// <remarks>
/// An idle connection is this object and nothing else (56 bytes): buffers hang off it only while bytes wait
/// (<see cref="Waiting"/>; input held while reading is paused waits in the core, see <see cref="ConnFlags.Holding"/>).
/// What a backend keeps per connection (a socket object, a send in flight) lives in the backend's own tables, by
/// <see cref="Slot"/>, so that the loops that need nothing of the kind pay nothing for it.
/// Members run on the loop thread; <see cref="INetConn.Write"/> from another thread throws while the loop runs.
/// </remarks>
/// <typeparam name="TBackend">The loop's backend.</typeparam>
internal sealed class LoopConnection<TBackend> : IReactorConn, ILifecycleConn, ICorkedOutput, IPeerConn
    where TBackend : struct, ILoopBackend<TBackend>
{
    /// <summary>The loop that serves the connection.</summary>
    internal readonly ConnectionCore<TBackend> Core;

    /// <summary>The backend's handle: a descriptor, a ring's direct descriptor or a Winsock SOCKET (kernel handles
    /// fit in 32 bits on 64-bit Windows).</summary>
    internal int Handle;

    /// <summary>The connection's slot in the core's table (and, for some backends, in their own tables).</summary>
    internal readonly int Slot;

    /// <summary>Tells this connection from an earlier one in the same slot: completion backends tag operations with
    /// the slot and this number. (It fits the object's padding: the connection is no larger for it.)</summary>
    internal uint Generation;

    /// <summary>Where the connection is in its life cycle.</summary>
    internal LoopConnState State;

    /// <summary>The state machine's flags and the backend's.</summary>
    internal ConnFlags Flags;

    /// <summary>Operations the backend has in flight for this connection (completion backends).</summary>
    internal byte Ops;

    /// <summary>Bytes accepted for sending that the socket has not taken yet, in order; null while none wait.</summary>
    internal SendQueue? Waiting;

    LoopConnState ILifecycleConn.State { get => State; set => State = value; }

    internal LoopConnection(ConnectionCore<TBackend> core, int handle, int slot)
    {
        Core = core;
        Handle = handle;
        Slot = slot;
    }

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <inheritdoc/>
    public long WaitingBytes => Core.WaitingBytes(this);

    /// <inheritdoc/>
    public bool Overflowed => (Flags & ConnFlags.Overflowed) != 0;

    /// <summary>True when the given flag is set.</summary>
    internal bool Has(ConnFlags flag) => (Flags & flag) != 0;

    /// <summary>Sets or clears the given flag.</summary>
    internal void Set(ConnFlags flag, bool value) => Flags = value ? Flags | flag : Flags & ~flag;

    /// <summary>The connection's input is not read (or not handed over) while too many bytes wait to be sent.</summary>
    internal bool ReadPaused
    {
        get => (Flags & ConnFlags.ReadPaused) != 0;
        set => Set(ConnFlags.ReadPaused, value);
    }

    /// <summary>The peer's end of stream was seen while the connection was closing.</summary>
    internal bool PeerClosed
    {
        get => (Flags & ConnFlags.PeerClosed) != 0;
        set => Set(ConnFlags.PeerClosed, value);
    }

    /// <summary>The peer's end of stream arrived while input was held; the connection finishes once it is delivered.</summary>
    internal bool InputEnded
    {
        get => (Flags & ConnFlags.InputEnded) != 0;
        set => Set(ConnFlags.InputEnded, value);
    }

    /// <summary>An asynchronous send is in flight: <see cref="ILoopBackend{TSelf}.Send"/> takes nothing more until it
    /// completes.</summary>
    internal bool SendBusy
    {
        get => (Flags & ConnFlags.SendBusy) != 0;
        set => Set(ConnFlags.SendBusy, value);
    }

    /// <summary>Nothing waits and no send is in flight: every byte accepted went to the socket.</summary>
    internal bool Drained => Waiting is null && (Flags & ConnFlags.SendBusy) == 0;

    /// <inheritdoc/>
    public int Read(Span<byte> buffer) => Core.Read(this, buffer);

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data) => Core.Write(this, data);

    /// <inheritdoc/>
    public int WriteShared(ReadOnlySpan<byte> data, ref SharedBytes shared) => Core.WriteShared(this, data, ref shared);

    /// <inheritdoc/>
    public Span<byte> TakeCorked(int length) => Core.TakeCorked(this, length);

    /// <inheritdoc/>
    public void Close() => Core.Close(this);

    /// <inheritdoc/>
    public void Abort() => Core.Finish(this);

    /// <inheritdoc/>
    public void AttachTransform(IByteTransform transform) => Core.AttachTransform(this, transform);

    /// <inheritdoc/>
    public System.Net.IPEndPoint? RemoteEndPoint => Core.RemoteEndPoint(this);

    /// <inheritdoc/>
    public System.Net.IPEndPoint? LocalEndPoint => Core.LocalEndPoint(this);

    /// <inheritdoc/>
    PeerAddress IPeerConn.RemoteAddress => Core.RemoteAddress(this);
}

/// <summary>Flags of a <see cref="LoopConnection{TBackend}"/>: the state machine's first, then the backends'.</summary>
[Flags]
internal enum ConnFlags : ushort
{
    None = 0,

    /// <summary>See <see cref="LoopConnection{TBackend}.ReadPaused"/>.</summary>
    ReadPaused = 1 << 0,

    /// <summary>See <see cref="LoopConnection{TBackend}.PeerClosed"/>.</summary>
    PeerClosed = 1 << 1,

    /// <summary>See <see cref="LoopConnection{TBackend}.InputEnded"/>.</summary>
    InputEnded = 1 << 2,

    /// <summary>See <see cref="LoopConnection{TBackend}.SendBusy"/>.</summary>
    SendBusy = 1 << 3,

    /// <summary>A readiness backend watches the socket for reading.</summary>
    WatchRead = 1 << 4,

    /// <summary>A readiness backend watches the socket for writing.</summary>
    WatchWrite = 1 << 5,

    /// <summary>A receive is in flight (a zero-byte receive, or io_uring's multishot receive).</summary>
    ReceivePending = 1 << 6,

    /// <summary>io_uring: the receive in flight is being cancelled.</summary>
    ReceiveCancelling = 1 << 7,

    /// <summary>io_uring: the socket is a direct descriptor of the ring.</summary>
    Direct = 1 << 8,

    /// <summary>io_uring: a shutdown of the sending side is in flight.</summary>
    ShutdownPending = 1 << 9,

    /// <summary>Input arrived while reading was paused and is held by the core, to be delivered when it resumes.</summary>
    Holding = 1 << 10,

    /// <summary>A byte transform (TLS) sits between the socket and the handler; the core keeps it.</summary>
    Transformed = 1 << 11,

    /// <summary>The connection was aborted because its waiting bytes would exceed the backpressure limit.</summary>
    Overflowed = 1 << 12,

    /// <summary>Bytes written to the connection wait in the core's gather buffer for the end of the loop's turn.</summary>
    Gathered = 1 << 13,
}
