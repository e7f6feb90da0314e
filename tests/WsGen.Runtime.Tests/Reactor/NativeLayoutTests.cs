using System.Net;
using System.Runtime.InteropServices;
using WsGen.Native;

namespace WsGen.Tests.Reactor;

/// <summary>The native structures of the io_uring, kqueue and IOCP loops against the sizes and offsets the systems' headers
/// document (64-bit). They run on any OS: the layouts are fixed by the declarations, not by the running system.</summary>
public sealed unsafe class NativeLayoutTests
{
    [Fact]
    public void Io_uring_structures_match_the_linux_uapi_header()
    {
        Assert.Equal(64, sizeof(IoUringSqe));
        Assert.Equal(40, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.BufferGroup)));
        Assert.Equal(44, (int)Marshal.OffsetOf<IoUringSqe>(nameof(IoUringSqe.FileIndex)));
        Assert.Equal(16, sizeof(IoUringCqe));
        Assert.Equal(120, sizeof(IoUringParams));
        Assert.Equal(32, sizeof(IoUringRsrcRegister));
        Assert.Equal(40, sizeof(IoUringBufReg));
        Assert.Equal(16, sizeof(ResourceLimit));
    }

    [Fact]
    public void Macos_kevent_is_32_bytes_with_the_documented_offsets()
    {
        Assert.Equal(32, sizeof(KEventMac));
        Assert.Equal(0, (int)Marshal.OffsetOf<KEventMac>(nameof(KEventMac.Ident)));
        Assert.Equal(8, (int)Marshal.OffsetOf<KEventMac>(nameof(KEventMac.Filter)));
        Assert.Equal(10, (int)Marshal.OffsetOf<KEventMac>(nameof(KEventMac.Flags)));
        Assert.Equal(12, (int)Marshal.OffsetOf<KEventMac>(nameof(KEventMac.FFlags)));
        Assert.Equal(16, (int)Marshal.OffsetOf<KEventMac>(nameof(KEventMac.Data)));
        Assert.Equal(24, (int)Marshal.OffsetOf<KEventMac>(nameof(KEventMac.UData)));
    }

    [Fact]
    public void FreeBsd_kevent_is_64_bytes_with_ext_after_udata()
    {
        Assert.Equal(64, sizeof(KEventFreeBsd));
        Assert.Equal(32, (int)Marshal.OffsetOf<KEventFreeBsd>("Ext"));
    }

    [Fact]
    public void Timespec_is_two_longs()
    {
        Assert.Equal(16, sizeof(TimeSpec));
        Assert.Equal(8, (int)Marshal.OffsetOf<TimeSpec>(nameof(TimeSpec.Nanoseconds)));
    }

    [Fact]
    public void Kevent_stride_follows_the_running_system()
        => Assert.Equal(OperatingSystem.IsFreeBSD() ? 64 : 32, Kqueue.KEventSize);

    [Fact]
    public void Set_writes_the_second_entry_at_one_stride_with_every_field_in_place()
    {
        int stride = Kqueue.KEventSize;
        byte* list = stackalloc byte[2 * 64];
        new Span<byte>(list, 2 * 64).Fill(0xAA);

        Kqueue.Set(list, 1, 7, Kqueue.EVFILT_WRITE, Kqueue.EV_ADD | Kqueue.EV_DISABLE, 0x01020304, 99);

        var entry = new ReadOnlySpan<byte>(list + stride, stride);
        Assert.Equal(7UL, BitConverter.ToUInt64(entry));
        Assert.Equal(-2, BitConverter.ToInt16(entry[8..]));
        Assert.Equal(0x0009, BitConverter.ToUInt16(entry[10..]));
        Assert.Equal(0x01020304U, BitConverter.ToUInt32(entry[12..]));
        Assert.Equal(0L, BitConverter.ToInt64(entry[16..]));
        Assert.Equal(99L, BitConverter.ToInt64(entry[24..]));
        Assert.True(entry[32..].IndexOfAnyExcept((byte)0) < 0, "the rest of the entry is zeroed");
        Assert.Equal(0xAA, list[0]);
    }

    [Fact]
    public void Evfilt_user_differs_between_macos_and_freebsd()
    {
        Assert.Equal(-10, Kqueue.EVFILT_USER_MACOS);
        Assert.Equal(-11, Kqueue.EVFILT_USER_FREEBSD);
        Assert.Equal(0x01000000U, Kqueue.NOTE_TRIGGER);
    }

    [Fact]
    public void Overlapped_wsabuf_and_overlapped_entry_have_their_64_bit_sizes()
    {
        Assert.Equal(32, sizeof(NativeOverlapped));
        Assert.Equal(16, sizeof(WsaBuf));
        Assert.Equal(8, (int)Marshal.OffsetOf<WsaBuf>(nameof(WsaBuf.Buffer)));
        Assert.Equal(32, sizeof(OverlappedEntry));
        Assert.Equal(8, (int)Marshal.OffsetOf<OverlappedEntry>(nameof(OverlappedEntry.Overlapped)));
        Assert.Equal(16, (int)Marshal.OffsetOf<OverlappedEntry>(nameof(OverlappedEntry.Internal)));
        Assert.Equal(24, (int)Marshal.OffsetOf<OverlappedEntry>(nameof(OverlappedEntry.BytesTransferred)));
    }

    [Fact]
    public void Winsock_control_codes_match_their_header_macros()
    {
        // _IOW('f', 126, u_long) = IOC_IN | (sizeof(u_long) & IOCPARM_MASK) << 16 | 'f' << 8 | 126.
        uint fionbio = 0x80000000u | ((4u & 0x7f) << 16) | ((uint)'f' << 8) | 126u;
        Assert.Equal(unchecked((uint)Winsock.FIONBIO), fionbio);
        // _WSAIORW(IOC_WS2, 6) = IOC_IN | IOC_OUT | IOC_WS2 | 6.
        Assert.Equal(0x80000000u | 0x40000000u | 0x08000000u | 6u, Winsock.SIO_GET_EXTENSION_FUNCTION_POINTER);
        Assert.Equal(~Winsock.SO_EXCLUSIVEADDRUSE, 4);
        Assert.Equal(Guid.Parse("b5367df1-cbac-11cf-95ca-00805f48a192"), Winsock.WSAID_ACCEPTEX);
    }

    [Fact]
    public void Bsd_sockaddr_in_starts_with_length_and_one_byte_family()
    {
        Span<byte> bytes = stackalloc byte[SockAddr.Size];
        int length = BsdSockAddr.FromEndPoint(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 0x1F90), bytes, Bsd.AF_INET6_MACOS);

        Assert.Equal(16, length);
        Assert.Equal(new byte[] { 16, 2, 0x1F, 0x90, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0 }, bytes[..16].ToArray());
    }

    [Theory]
    [InlineData(Bsd.AF_INET6_MACOS)]
    [InlineData(Bsd.AF_INET6_FREEBSD)]
    public void Bsd_sockaddr_in6_uses_the_system_family_and_round_trips(int family)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse("fe80::1%5"), 443);
        Span<byte> bytes = stackalloc byte[SockAddr.Size];
        int length = BsdSockAddr.FromEndPoint(endPoint, bytes, family);

        Assert.Equal(28, length);
        Assert.Equal(28, bytes[0]);
        Assert.Equal(family, bytes[1]);
        Assert.Equal(new byte[] { 0x01, 0xBB }, bytes.Slice(2, 2).ToArray());
        Assert.Equal(0xFE, bytes[8]);
        Assert.Equal(5U, BitConverter.ToUInt32(bytes[24..]));
        Assert.Equal(endPoint, BsdSockAddr.ToEndPoint(bytes, family));
    }

    [Fact]
    public void Linux_sockaddr_in_has_a_two_byte_family_and_no_length()
    {
        SockAddr.FromEndPoint(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 0x1F90), out SockAddr address);
        ReadOnlySpan<byte> bytes = address;

        Assert.Equal(new byte[] { 2, 0, 0x1F, 0x90, 10, 1, 2, 3 }, bytes[..8].ToArray());
    }

    [Fact]
    public void Bsd_socket_constants_differ_from_linux_where_documented()
    {
        Assert.Equal(0xffff, Bsd.SOL_SOCKET);
        Assert.NotEqual(Libc.SOL_SOCKET, Bsd.SOL_SOCKET);
        Assert.Equal(4, Bsd.SO_REUSEADDR);
        Assert.Equal(4, Bsd.O_NONBLOCK);
        Assert.Equal(35, Bsd.EAGAIN);
        Assert.Equal(0x1022, Bsd.SO_NOSIGPIPE_MACOS);
    }
}
