using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using WsGen.Native;

namespace WsGen.Transport;

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
