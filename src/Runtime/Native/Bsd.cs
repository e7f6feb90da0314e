using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// The C library of macOS and FreeBSD: kqueue, and the socket constants and errno values that differ from Linux.
/// The calls whose signatures are the same everywhere (socket, bind, recv, send ...) are those of <see cref="Libc"/>;
/// the runtime resolves "libc" to <c>/usr/lib/libc.dylib</c> on macOS and <c>libc.so.7</c> on FreeBSD.
/// </summary>
/// <remarks>Values from the systems' headers (sys/socket.h, sys/errno.h, sys/fcntl.h, netinet/in.h,
/// netinet/tcp.h), which agree between macOS and FreeBSD except where a member says otherwise.</remarks>
internal static unsafe partial class Bsd
{
    private const string LibraryName = "libc";

    // Address families: AF_INET6 is 30 on macOS and 28 on FreeBSD.
    internal const int AF_INET = 2;
    internal const int AF_INET6_MACOS = 30;
    internal const int AF_INET6_FREEBSD = 28;

    internal const int SOCK_STREAM = 1;
    internal const int SOL_SOCKET = 0xffff;
    internal const int IPPROTO_TCP = 6;

    // SOL_SOCKET options.
    internal const int SO_REUSEADDR = 0x0004;
    internal const int SO_REUSEPORT = 0x0200;

    /// <summary>FreeBSD 12+: SO_REUSEPORT with load balancing across the listening sockets.</summary>
    internal const int SO_REUSEPORT_LB = 0x00010000;

    /// <summary>macOS: no SIGPIPE when sending on a broken connection (macOS has no MSG_NOSIGNAL).</summary>
    internal const int SO_NOSIGPIPE_MACOS = 0x1022;

    /// <summary>FreeBSD: no SIGPIPE when sending on a broken connection.</summary>
    internal const int SO_NOSIGPIPE_FREEBSD = 0x0800;

    internal const int SO_SNDBUF = 0x1001;
    internal const int SO_RCVBUF = 0x1002;

    internal const int TCP_NODELAY = 1;
    internal const int SHUT_WR = 1;

    // fcntl(2).
    internal const int F_SETFD = 2;
    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;
    internal const int FD_CLOEXEC = 1;
    internal const int O_NONBLOCK = 0x0004;

    // errno values (sys/errno.h).
    internal const int EINTR = 4;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EINVAL = 22;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;
    internal const int EPIPE = 32;
    internal const int EAGAIN = 35;
    internal const int EADDRINUSE = 48;
    internal const int EADDRNOTAVAIL = 49;
    internal const int ECONNABORTED = 53;
    internal const int ECONNRESET = 54;
    internal const int ENOBUFS = 55;

    /// <summary>AF_INET6 of the running system.</summary>
    internal static int AF_INET6 => OperatingSystem.IsMacOS() ? AF_INET6_MACOS : AF_INET6_FREEBSD;

    /// <summary>SO_NOSIGPIPE of the running system.</summary>
    internal static int SO_NOSIGPIPE => OperatingSystem.IsMacOS() ? SO_NOSIGPIPE_MACOS : SO_NOSIGPIPE_FREEBSD;

    /// <summary>The option that lets several loops listen on one port: SO_REUSEPORT_LB on FreeBSD (the kernel
    /// spreads connections), SO_REUSEPORT on macOS (it only allows the shared bind).</summary>
    internal static int ReusePortOption => OperatingSystem.IsFreeBSD() ? SO_REUSEPORT_LB : SO_REUSEPORT;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int accept(int fd, byte* address, uint* addressLength);

    /// <summary>Sets <see cref="O_NONBLOCK"/> and close-on-exec on <paramref name="fd"/>; -1 with errno on failure.</summary>
    internal static int SetNonBlockingCloseOnExec(int fd)
    {
        int flags = Libc.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || Libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
            return -1;
        return Libc.fcntl(fd, F_SETFD, FD_CLOEXEC);
    }

    /// <summary>A <see cref="System.Net.Sockets.SocketException"/> for a BSD errno.</summary>
    internal static SocketException SocketException(int errno) => new((int)(errno switch
    {
        EINTR => SocketError.Interrupted,
        EACCES => SocketError.AccessDenied,
        EINVAL => SocketError.InvalidArgument,
        ENFILE or EMFILE => SocketError.TooManyOpenSockets,
        EPIPE => SocketError.Shutdown,
        EAGAIN => SocketError.WouldBlock,
        EADDRINUSE => SocketError.AddressAlreadyInUse,
        EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        ECONNABORTED => SocketError.ConnectionAborted,
        ECONNRESET => SocketError.ConnectionReset,
        ENOMEM or ENOBUFS => SocketError.NoBufferSpaceAvailable,
        _ => SocketError.SocketError,
    }));

    /// <summary>An <see cref="IOException"/> naming a failed call and its BSD errno.</summary>
    internal static IOException IOException(string operation, int errno)
        => new($"{operation} failed (errno {errno}).", SocketException(errno)) { HResult = errno };
}
