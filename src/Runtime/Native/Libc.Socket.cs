using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>Socket calls of the C library. Every call sets the last P/Invoke error (errno) on failure.</summary>
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int bind(int fd, byte* address, uint addressLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int listen(int fd, int backlog);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int accept4(int fd, byte* address, uint* addressLength, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int connect(int fd, byte* address, uint addressLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int setsockopt(int fd, int level, int name, void* value, uint valueLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getsockopt(int fd, int level, int name, void* value, uint* valueLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getsockname(int fd, byte* address, uint* addressLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getpeername(int fd, byte* address, uint* addressLength);

    /// <summary>Sets an integer socket option.</summary>
    internal static int SetIntOption(int fd, int level, int name, int value)
        => setsockopt(fd, level, name, &value, sizeof(int));

    /// <summary>Reads an integer socket option; returns -1 and sets errno on failure.</summary>
    internal static int GetIntOption(int fd, int level, int name, out int value)
    {
        int v = 0;
        uint length = sizeof(int);
        int rc = getsockopt(fd, level, name, &v, &length);
        value = v;
        return rc;
    }
}
