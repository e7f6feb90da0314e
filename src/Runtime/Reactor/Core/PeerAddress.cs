using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using WsGen.Native;

namespace WsGen.Reactor;

/// <summary>
/// The remote address of an accepted connection as the accept reported it: an IPv4 address and port packed into
/// 8 bytes, or (other families) the endpoint itself. <c>default</c> is an unknown address.
/// </summary>
internal readonly struct PeerAddress
{
    private const ulong KnownV4 = 1UL << 48;

    private readonly ulong _v4;             // KnownV4 | address (network order, read big-endian) << 16 | port
    private readonly IPEndPoint? _other;

    private PeerAddress(ulong v4, IPEndPoint? other)
    {
        _v4 = v4;
        _other = other;
    }

    /// <summary>True when the accept reported no address.</summary>
    internal bool IsUnknown => _v4 == 0 && _other is null;

    /// <summary>The packed form of an IPv4 peer (0 otherwise): equal for equal addresses and ports.</summary>
    internal ulong PackedV4 => _v4;

    /// <summary>From a Linux <c>sockaddr_in</c> or <c>sockaddr_in6</c> of <paramref name="length"/> bytes, as
    /// <c>accept4</c> filled it; IPv4-mapped IPv6 addresses are kept as IPv4.</summary>
    internal static PeerAddress FromSockAddr(ReadOnlySpan<byte> bytes, int length)
    {
        if (length < SockAddr.InetLength)
            return default;
        int family = BitConverter.ToUInt16(bytes);
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        if (family == Libc.AF_INET)
            return V4(BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]), port);
        if (family == Libc.AF_INET6 && length >= SockAddr.Inet6Length)
            return From(SockAddr.ToEndPoint(bytes));
        return default;
    }

    /// <summary>From an endpoint a socket reported (null: unknown).</summary>
    internal static PeerAddress From(EndPoint? endPoint)
    {
        if (endPoint is not IPEndPoint ip)
            return default;
        IPAddress address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        if (address.AddressFamily != AddressFamily.InterNetwork)
            return new PeerAddress(0, ip);
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return V4(BinaryPrimitives.ReadUInt32BigEndian(bytes), (ushort)ip.Port);
    }

    /// <summary>From <see cref="PackedV4"/>.</summary>
    internal static PeerAddress FromPacked(ulong packed) => new(packed, null);

    private static PeerAddress V4(uint address, ushort port) => new(KnownV4 | ((ulong)address << 16) | port, null);

    /// <summary>The address without its port (the key of the per-address limits), as an object only for families
    /// other than IPv4.</summary>
    internal PeerAddress WithoutPort() => _other is null ? new(_v4 & ~0xFFFFUL, null) : new(0, new IPEndPoint(_other.Address, 0));

    /// <summary>A new endpoint for the address, or null when it is unknown.</summary>
    internal IPEndPoint? ToEndPoint()
    {
        if (_other is not null)
            return _other;
        if (_v4 == 0)
            return null;
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(_v4 >> 16));
        return new IPEndPoint(new IPAddress(bytes), (int)(_v4 & 0xFFFF));
    }
}

/// <summary>
/// The remote addresses of a loop's connections by slot, beside the connections rather than in them: 8 bytes per
/// slot in pages (as <see cref="ConnectionTable{T}"/>), plus a dictionary for the few addresses that are not IPv4.
/// The idle connection object stays as small as it was.
/// </summary>
/// <remarks>Used on the loop thread. A slot's entry is written at every accept into it, so it needs no clearing.</remarks>
internal sealed class PeerAddresses
{
    private const int PageBits = ConnectionTable<object>.PageBits;
    private const int PageSize = 1 << PageBits;

    private ulong[]?[] _pages = new ulong[]?[8];
    private Dictionary<int, PeerAddress>? _others;

    /// <summary>Records the address of the connection accepted into <paramref name="slot"/>.</summary>
    internal void Set(int slot, PeerAddress address)
    {
        int page = slot >> PageBits;
        if (page >= _pages.Length)
            Array.Resize(ref _pages, Math.Max(page + 1, _pages.Length * 2));
        ulong[] items = _pages[page] ??= new ulong[PageSize];
        items[slot & (PageSize - 1)] = address.PackedV4;
        if (address.PackedV4 == 0 && !address.IsUnknown)
            (_others ??= [])[slot] = address;
        else
            _others?.Remove(slot);
    }

    /// <summary>The address recorded for <paramref name="slot"/>.</summary>
    internal PeerAddress Get(int slot)
    {
        ulong[]?[] pages = _pages;
        uint page = (uint)slot >> PageBits;
        if (page < (uint)pages.Length && pages[page] is { } items && items[slot & (PageSize - 1)] is var v4 and not 0)
            return PeerAddress.FromPacked(v4);
        return _others is not null && _others.TryGetValue(slot, out PeerAddress other) ? other : default;
    }

}

/// <summary>A connection that knows its remote address (a reactor loop's connection).</summary>
internal interface IPeerConn
{
    /// <summary>A new endpoint for the remote address, or null when it is unknown.</summary>
    System.Net.IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The remote address in its compact form.</summary>
    PeerAddress RemoteAddress { get; }
}
