using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The connection an <see cref="EpollReactor"/> hands to its handler: a descriptor, a few state bits and, only
/// while bytes wait for the socket, a reference to a <see cref="SendQueue"/>. An idle connection holds no buffer.
/// </summary>
/// <remarks>Writes are corked and backpressured by the loop; see <see cref="IReactorConn"/>.</remarks>
internal sealed unsafe class EpollConn : IReactorConn
{
    internal readonly EpollReactor Loop;

    /// <summary>The socket descriptor; -1 once closed.</summary>
    internal int Fd;

    internal LoopConnState State;

    /// <summary>The epoll events currently registered for <see cref="Fd"/>.</summary>
    internal EpollInterest Interest;

    /// <summary>Set while reading is paused because too many bytes wait; cleared when everything is flushed.</summary>
    internal bool ReadPaused;

    /// <summary>Set when the peer's end of stream was seen while the connection was still flushing.</summary>
    internal bool PeerClosed;

    /// <summary>Bytes that wait for the socket, or null when none do.</summary>
    internal SendQueue? Waiting;

    /// <summary>While closing: when the loop gives up flushing or lingering and closes the descriptor.</summary>
    internal long Deadline;

    internal EpollConn(EpollReactor loop, int fd)
    {
        Loop = loop;
        Fd = fd;
    }

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <inheritdoc/>
    public long WaitingBytes => Waiting?.Length ?? 0;

    /// <summary>A direct non-blocking read from the socket. The loop normally reads for the handler (see
    /// <see cref="IConnectionHandler.OnData"/>); returns 0 once the connection is closing or closed.</summary>
    public int Read(Span<byte> buffer)
    {
        if (State != LoopConnState.Open)
            return 0;
        nint n;
        fixed (byte* p = buffer)
            n = Libc.recv(Fd, p, (nuint)buffer.Length, 0);
        if (n >= 0)
            return (int)n;
        return Errno.Last is Errno.EAGAIN or Errno.EINTR ? NetConn.WouldBlock : 0;
    }

    /// <summary>Corked, backpressured write: returns <paramref name="data"/>'s length, or 0 when the connection is
    /// closing, closed, or was aborted because the waiting bytes would exceed <see cref="ReactorOptions.MaxBackpressure"/>.</summary>
    public int Write(ReadOnlySpan<byte> data) => Loop.Write(this, data);

    /// <summary>Graceful close: flush, shut down the sending side, discard input until the peer's end of stream
    /// or <see cref="ReactorOptions.LingerTimeout"/>, then close. Idempotent.</summary>
    public void Close() => Loop.Close(this);

    /// <inheritdoc/>
    public void Abort() => Loop.Abort(this);
}

/// <summary>The epoll events an <see cref="EpollConn"/> is registered for.</summary>
[Flags]
internal enum EpollInterest : byte
{
    None = 0,
    Read = 1,
    Write = 2,
}
