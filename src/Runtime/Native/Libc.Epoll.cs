using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>epoll and eventfd calls of the C library.</summary>
/// <remarks>
/// <c>struct epoll_event</c> is packed (12 bytes) on x86-64 and naturally aligned (16 bytes) elsewhere, so the
/// event array is handled as raw bytes with <see cref="EpollEventSize"/> and <see cref="EpollDataOffset"/>
/// chosen at startup instead of a struct whose layout would be right on one architecture only.
/// </remarks>
internal static unsafe partial class Libc
{
    /// <summary>Size of one <c>struct epoll_event</c> on this architecture.</summary>
    internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Offset of the 64-bit data field inside <c>struct epoll_event</c>.</summary>
    internal static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int epoll_ctl(int epfd, int op, int fd, byte* epollEvent);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeoutMilliseconds);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int eventfd(uint initialValue, int flags);

    /// <summary>epoll_ctl with an event built from <paramref name="events"/> and <paramref name="data"/>.</summary>
    internal static int EpollControl(int epfd, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        Unsafe.WriteUnaligned(ev, events);
        Unsafe.WriteUnaligned(ev + EpollDataOffset, data);
        return epoll_ctl(epfd, op, fd, ev);
    }

    /// <summary>The event mask of entry <paramref name="index"/> in an epoll_wait result.</summary>
    internal static uint EpollEvents(byte* events, int index)
        => Unsafe.ReadUnaligned<uint>(events + (index * EpollEventSize));

    /// <summary>The data field of entry <paramref name="index"/> in an epoll_wait result.</summary>
    internal static ulong EpollData(byte* events, int index)
        => Unsafe.ReadUnaligned<ulong>(events + (index * EpollEventSize) + EpollDataOffset);
}
