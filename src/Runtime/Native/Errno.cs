using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>Linux errno values WsGen reacts to, and helpers that turn an errno into an exception.</summary>
internal static class Errno
{
    internal const int EINTR = 4;
    internal const int EBADF = 9;
    internal const int EAGAIN = 11;
    internal const int EWOULDBLOCK = EAGAIN;
    internal const int ENOMEM = 12;
    internal const int EINVAL = 22;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;
    internal const int EPIPE = 32;
    internal const int EPROTO = 71;
    internal const int EADDRINUSE = 98;
    internal const int EADDRNOTAVAIL = 99;
    internal const int ENETUNREACH = 101;
    internal const int ECONNABORTED = 103;
    internal const int ECONNRESET = 104;
    internal const int ENOBUFS = 105;
    internal const int ENOTCONN = 107;
    internal const int ETIMEDOUT = 110;
    internal const int ECONNREFUSED = 111;
    internal const int EHOSTUNREACH = 113;
    internal const int EALREADY = 114;
    internal const int EINPROGRESS = 115;

    /// <summary>The errno of the last failed <see cref="Libc"/> call on this thread.</summary>
    internal static int Last => Marshal.GetLastPInvokeError();

    /// <summary>The <see cref="SocketError"/> that corresponds to <paramref name="errno"/>.</summary>
    internal static SocketError ToSocketError(int errno) => errno switch
    {
        EINTR => SocketError.Interrupted,
        EBADF => SocketError.OperationAborted,
        EAGAIN => SocketError.WouldBlock,
        EINVAL => SocketError.InvalidArgument,
        ENFILE or EMFILE => SocketError.TooManyOpenSockets,
        EPIPE => SocketError.Shutdown,
        EADDRINUSE => SocketError.AddressAlreadyInUse,
        EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        ENETUNREACH => SocketError.NetworkUnreachable,
        ECONNABORTED => SocketError.ConnectionAborted,
        ECONNRESET => SocketError.ConnectionReset,
        ENOMEM or ENOBUFS => SocketError.NoBufferSpaceAvailable,
        ENOTCONN => SocketError.NotConnected,
        ETIMEDOUT => SocketError.TimedOut,
        ECONNREFUSED => SocketError.ConnectionRefused,
        EHOSTUNREACH => SocketError.HostUnreachable,
        EALREADY => SocketError.AlreadyInProgress,
        EINPROGRESS => SocketError.InProgress,
        _ => SocketError.SocketError,
    };

    /// <summary>A <see cref="SocketException"/> for a failed setup call (socket, bind, listen ...).</summary>
    internal static SocketException SocketException(int errno) => new((int)ToSocketError(errno));

    /// <summary>An <see cref="IOException"/> for a failed I/O call, naming the call and the errno, with the
    /// matching <see cref="System.Net.Sockets.SocketException"/> inside.</summary>
    internal static IOException IOException(string operation, int errno)
        => new($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", SocketException(errno))
        {
            HResult = errno,
        };

    /// <summary>Throws <see cref="SocketException(int)"/> for the last errno.</summary>
    internal static void ThrowSocketException() => throw SocketException(Last);

    /// <summary>Throws <see cref="IOException(string, int)"/> for the last errno.</summary>
    internal static void ThrowIOException(string operation) => throw IOException(operation, Last);
}
