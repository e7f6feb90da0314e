using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>Descriptor calls of the C library: close, fcntl, read and write (the latter two for eventfd).</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint write(int fd, void* buffer, nuint count);

    /// <summary>Sets <see cref="O_NONBLOCK"/> on <paramref name="fd"/>; returns -1 and sets errno on failure.</summary>
    internal static int SetNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
}
