using WsGen.Native;

namespace WsGen.Transport;

/// <summary>
/// A raw <see cref="INetConn"/> over a connected, non-blocking Linux socket descriptor: <see cref="Read"/> is one
/// <c>recv</c> and <see cref="Write"/> one <c>send</c>.
/// </summary>
/// <remarks>A reactor takes the descriptor over with <see cref="Detach"/> when this connection is registered.</remarks>
internal sealed unsafe class SocketConn : INetConn
{
    private int _fd;

    /// <summary>Wraps <paramref name="fd"/>, which must be a connected socket; it is made non-blocking.</summary>
    public SocketConn(int fd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (Libc.SetNonBlocking(fd) < 0)
            Errno.ThrowSocketException();
        _fd = fd;
    }

    /// <summary>The descriptor, or -1 once closed or detached.</summary>
    public int Fd => _fd;

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <summary>One <c>recv</c>: the byte count, 0 when the peer closed its side (or reset the connection),
    /// <see cref="NetConn.WouldBlock"/> when nothing is available. Other errors throw <see cref="IOException"/>.</summary>
    public int Read(Span<byte> buffer)
    {
        int fd = LiveFd();
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
                n = Libc.recv(fd, p, (nuint)buffer.Length, 0);
            if (n >= 0)
                return (int)n;
            int errno = Errno.Last;
            switch (errno)
            {
                case Errno.EINTR:
                    continue;
                case Errno.EAGAIN:
                    return NetConn.WouldBlock;
                case Errno.ECONNRESET:
                    return 0;
                default:
                    throw Errno.IOException("recv", errno);
            }
        }
    }

    /// <summary>One <c>send</c> with <c>MSG_NOSIGNAL</c>: the number of bytes the socket took, 0 when it would
    /// block. A peer that is gone (EPIPE, ECONNRESET) or any other error throws <see cref="IOException"/>.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int fd = LiveFd();
        if (data.IsEmpty)
            return 0;
        while (true)
        {
            nint n;
            fixed (byte* p = data)
                n = Libc.send(fd, p, (nuint)data.Length, Libc.MSG_NOSIGNAL);
            if (n >= 0)
                return (int)n;
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
                continue;
            if (errno == Errno.EAGAIN)
                return 0;
            throw Errno.IOException("send", errno);
        }
    }

    /// <summary>Closes the descriptor. Idempotent.</summary>
    public void Close()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            Libc.close(fd);
    }

    /// <summary>Gives the descriptor to the caller (a reactor), which now owns it; this object no longer works.</summary>
    internal int Detach()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
            throw new ObjectDisposedException(nameof(SocketConn));
        return fd;
    }

    private int LiveFd()
    {
        int fd = _fd;
        ObjectDisposedException.ThrowIf(fd < 0, this);
        return fd;
    }
}
