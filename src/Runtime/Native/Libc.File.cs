using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>Descriptor calls of the C library: close, fcntl, read and write (the latter two for eventfd), and the
/// descriptor limit.</summary>
internal static unsafe partial class Libc
{
    internal const int RLIMIT_NOFILE = 7;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getrlimit(int resource, ResourceLimit* limit);

    /// <summary>The soft limit on open descriptors (RLIMIT_NOFILE), or -1 when it cannot be read.</summary>
    internal static long OpenFileLimit()
    {
        ResourceLimit limit;
        return getrlimit(RLIMIT_NOFILE, &limit) == 0 ? (long)Math.Min(limit.Current, long.MaxValue) : -1;
    }

    /// <summary>Sets <see cref="O_NONBLOCK"/> on <paramref name="fd"/>; returns -1 and sets errno on failure.</summary>
    internal static int SetNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
}

/// <summary><c>struct rlimit</c> on 64-bit Linux.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ResourceLimit
{
    public ulong Current;
    public ulong Maximum;
}
