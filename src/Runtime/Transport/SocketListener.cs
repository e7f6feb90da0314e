using System.Net;
using System.Net.Sockets;
using WsGen.Native;

namespace WsGen.Transport;

/// <summary>A non-blocking listening TCP socket on Linux (socket, SO_REUSEADDR, bind, listen).</summary>
internal sealed unsafe class SocketListener : IDisposable
{
    /// <summary>The backlog used when none is given.</summary>
    internal const int DefaultBacklog = 1024;

    private int _fd;

    /// <summary>Binds and listens on <paramref name="endPoint"/> (port 0 picks a free port, see
    /// <see cref="LocalEndPoint"/>). <paramref name="reusePort"/> sets SO_REUSEPORT so that several loops can
    /// listen on the same port and the kernel spreads connections over them.</summary>
    public SocketListener(IPEndPoint endPoint, int backlog = DefaultBacklog, bool reusePort = false)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        int length = SockAddr.FromEndPoint(endPoint, out SockAddr address);
        int family = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? Libc.AF_INET6 : Libc.AF_INET;
        int fd = Libc.socket(family, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
            Errno.ThrowSocketException();
        try
        {
            Check(Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1));
            if (reusePort)
                Check(Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1));
            Check(Libc.bind(fd, (byte*)&address, (uint)length));
            Check(Libc.listen(fd, backlog <= 0 ? Libc.SOMAXCONN : backlog));
            LocalEndPoint = GetLocalEndPoint(fd);
        }
        catch
        {
            Libc.close(fd);
            throw;
        }

        _fd = fd;
    }

    /// <summary>The listening descriptor, or -1 once disposed.</summary>
    public int Fd => _fd;

    /// <summary>The bound endpoint, with the real port when port 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Accepts one pending connection as a non-blocking, close-on-exec descriptor with TCP_NODELAY set.
    /// Returns false when no connection is pending; call it until it does to drain the queue. <paramref name="peer"/>
    /// is the remote address accept4 reported.</summary>
    /// <exception cref="SocketException">Accepting failed for another reason than a connection that was
    /// aborted while queued (for example EMFILE: too many open descriptors).</exception>
    public bool TryAccept(out int fd, out PeerAddress peer)
    {
        int listenFd = _fd;
        ObjectDisposedException.ThrowIf(listenFd < 0, this);
        SockAddr address = default;
        while (true)
        {
            uint length = SockAddr.Size;
            fd = Libc.accept4(listenFd, (byte*)&address, &length, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                Libc.SetIntOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1);
                peer = PeerAddress.FromSockAddr(address, (int)length);
                return true;
            }

            peer = default;

            int errno = Errno.Last;
            switch (errno)
            {
                case Errno.EINTR:
                case Errno.ECONNABORTED:
                case Errno.EPROTO:
                    continue;
                case Errno.EAGAIN:
                    fd = -1;
                    return false;
                default:
                    throw Errno.SocketException(errno);
            }
        }
    }

    /// <summary>Closes the listening socket. Idempotent.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            Libc.close(fd);
    }

    /// <summary>The local address of a socket (getsockname).</summary>
    internal static IPEndPoint GetLocalEndPoint(int fd)
    {
        SockAddr address = default;
        uint length = SockAddr.Size;
        Check(Libc.getsockname(fd, (byte*)&address, &length));
        return SockAddr.ToEndPoint(address);
    }

    private static void Check(int rc)
    {
        if (rc < 0)
            Errno.ThrowSocketException();
    }
}
