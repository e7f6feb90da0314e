using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The connection a native loop (<see cref="NativeLoop"/>: epoll, kqueue, IOCP) hands to its handler: a socket,
/// a few state bits and, only while bytes wait for the socket, a reference to a <see cref="SendQueue"/>. An idle
/// connection holds no buffer.
/// </summary>
/// <remarks>Writes are corked and backpressured by the loop; see <see cref="IReactorConn"/>.</remarks>
internal sealed class NativeConn : IReactorConn, ILifecycleConn, ICorkedOutput
{
    internal readonly NativeLoop Loop;

    /// <summary>The socket: a descriptor on Unix, a SOCKET handle on Windows; -1 once closed.</summary>
    internal nint Socket;

    /// <summary>The connection's index in the loop's table (the descriptor itself on Unix).</summary>
    internal readonly int Slot;

    internal LoopConnState State;

    /// <summary>What the loop currently watches the socket for.</summary>
    internal Interest Interest;

    /// <summary>Reading paused, peer closed.</summary>
    internal NativeConnFlags Flags;

    /// <summary>Bytes that wait for the socket, or null when none do.</summary>
    internal SendQueue? Waiting;


    LoopConnState ILifecycleConn.State { get => State; set => State = value; }

    internal NativeConn(NativeLoop loop, nint socket, int slot)
    {
        Loop = loop;
        Socket = socket;
        Slot = slot;
    }

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <inheritdoc/>
    public long WaitingBytes => Waiting?.Length ?? 0;

    /// <summary>Set while reading is paused because too many bytes wait; cleared when everything is flushed.</summary>
    internal bool ReadPaused
    {
        get => (Flags & NativeConnFlags.ReadPaused) != 0;
        set => Flags = value ? Flags | NativeConnFlags.ReadPaused : Flags & ~NativeConnFlags.ReadPaused;
    }

    /// <summary>Set when the peer's end of stream was seen while the connection was still flushing.</summary>
    internal bool PeerClosed
    {
        get => (Flags & NativeConnFlags.PeerClosed) != 0;
        set => Flags = value ? Flags | NativeConnFlags.PeerClosed : Flags & ~NativeConnFlags.PeerClosed;
    }

    /// <summary>A direct non-blocking read from the socket. The loop normally reads for the handler (see
    /// <see cref="IConnectionHandler.OnData"/>); returns 0 once the connection is closing, closed, or failed.</summary>
    public int Read(Span<byte> buffer) => State != LoopConnState.Open ? 0 : Loop.Read(this, buffer);

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
}

/// <summary>What a native loop watches a <see cref="NativeConn"/> for.</summary>
[Flags]
internal enum Interest : byte
{
    None = 0,
    Read = 1,
    Write = 2,
}

/// <summary>State bits of a <see cref="NativeConn"/>.</summary>
[Flags]
internal enum NativeConnFlags : byte
{
    None = 0,
    ReadPaused = 1,
    PeerClosed = 2,
}
