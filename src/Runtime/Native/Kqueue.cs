using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// kqueue(2) and kevent(2) of macOS and FreeBSD.
/// </summary>
/// <remarks>
/// <para><c>struct kevent</c> starts the same on both systems (64-bit): ident <c>uintptr_t</c> at 0, filter
/// <c>int16_t</c> at 8, flags <c>uint16_t</c> at 10, fflags <c>uint32_t</c> at 12, data (<c>intptr_t</c> on macOS,
/// <c>int64_t</c> on FreeBSD) at 16, udata <c>void*</c> at 24. macOS ends there (32 bytes, <see cref="KEventMac"/>);
/// FreeBSD 12 and later add <c>uint64_t ext[4]</c> (64 bytes, <see cref="KEventFreeBsd"/>), and its default
/// <c>kevent</c> symbol takes that layout. Event lists are therefore handled as raw bytes with a stride of
/// <see cref="KEventSize"/>, chosen at startup.</para>
/// <para>EVFILT_USER is -10 on macOS and -11 on FreeBSD; the other values used here agree.</para>
/// </remarks>
internal static unsafe partial class Kqueue
{
    private const string LibraryName = "libc";

    internal const short EVFILT_READ = -1;
    internal const short EVFILT_WRITE = -2;
    internal const short EVFILT_USER_MACOS = -10;
    internal const short EVFILT_USER_FREEBSD = -11;

    internal const ushort EV_ADD = 0x0001;
    internal const ushort EV_DELETE = 0x0002;
    internal const ushort EV_ENABLE = 0x0004;
    internal const ushort EV_DISABLE = 0x0008;
    internal const ushort EV_CLEAR = 0x0020;
    internal const ushort EV_ERROR = 0x4000;
    internal const ushort EV_EOF = 0x8000;

    /// <summary>EVFILT_USER: fire the event.</summary>
    internal const uint NOTE_TRIGGER = 0x01000000;

    /// <summary>Size of <c>struct kevent</c> on the running system (32 on macOS, 64 on FreeBSD).</summary>
    internal static readonly int KEventSize = OperatingSystem.IsFreeBSD() ? sizeof(KEventFreeBsd) : sizeof(KEventMac);

    /// <summary>EVFILT_USER on the running system.</summary>
    internal static short EVFILT_USER => OperatingSystem.IsFreeBSD() ? EVFILT_USER_FREEBSD : EVFILT_USER_MACOS;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int kqueue();

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int kevent(int kq, byte* changeList, int changeCount, byte* eventList, int eventCount, TimeSpec* timeout);

    /// <summary>Fills entry <paramref name="index"/> of a kevent list (the EV_SET macro), zeroing the rest.</summary>
    internal static void Set(byte* list, int index, nuint ident, short filter, ushort flags, uint fflags, nint udata)
    {
        byte* e = list + (index * KEventSize);
        new Span<byte>(e, KEventSize).Clear();
        var common = (KEventMac*)e;
        common->Ident = ident;
        common->Filter = filter;
        common->Flags = flags;
        common->FFlags = fflags;
        common->UData = udata;
    }

    /// <summary>The fields shared by both layouts, of entry <paramref name="index"/>.</summary>
    internal static ref KEventMac At(byte* list, int index) => ref Unsafe.AsRef<KEventMac>(list + (index * KEventSize));

    /// <summary>Applies one change; returns -1 with errno on failure.</summary>
    internal static int Change(int kq, nuint ident, short filter, ushort flags, uint fflags, nint udata)
    {
        byte* change = stackalloc byte[sizeof(KEventFreeBsd)];
        Set(change, 0, ident, filter, flags, fflags, udata);
        return kevent(kq, change, 1, null, 0, null);
    }
}

/// <summary><c>struct kevent</c> of macOS (64-bit): 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KEventMac
{
    public nuint Ident;
    public short Filter;
    public ushort Flags;
    public uint FFlags;
    public nint Data;
    public nint UData;
}

/// <summary><c>struct kevent</c> of FreeBSD 12 and later (64-bit): the macOS fields, then <c>uint64_t ext[4]</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KEventFreeBsd
{
    public KEventMac Common;
    public fixed ulong Ext[4];
}

/// <summary><c>struct timespec</c> (64-bit): seconds and nanoseconds, both <c>long</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}
