namespace WsGen.Native;

/// <summary>
/// Linux constants for the socket, epoll and eventfd calls of <see cref="Libc"/>. The values are those of the
/// generic Linux ABI, shared by x86-64 and arm64.
/// </summary>
internal static partial class Libc
{
    // Address families.
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;

    // Socket types and their creation flags (also accepted by accept4).
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    // Protocols and option levels.
    internal const int SOL_SOCKET = 1;
    internal const int IPPROTO_TCP = 6;
    internal const int IPPROTO_IPV6 = 41;

    // SOL_SOCKET options.
    internal const int SO_REUSEADDR = 2;
    internal const int SO_ERROR = 4;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_LINGER = 13;
    internal const int SO_REUSEPORT = 15;

    // IPPROTO_TCP and IPPROTO_IPV6 options.
    internal const int TCP_NODELAY = 1;
    internal const int IPV6_V6ONLY = 26;

    /// <summary>The kernel's default cap on a listen backlog (net.core.somaxconn since Linux 5.4).</summary>
    internal const int SOMAXCONN = 4096;

    // send/recv flags.
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;

    // shutdown(2) directions.
    internal const int SHUT_RD = 0;
    internal const int SHUT_WR = 1;
    internal const int SHUT_RDWR = 2;

    // fcntl(2).
    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;
    internal const int O_NONBLOCK = 0x800;

    // epoll.
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLOUT = 0x004;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;
    internal const uint EPOLLRDHUP = 0x2000;

    // eventfd.
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;
}
