using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace WsGen.Native;

/// <summary>
/// <c>sockaddr_in</c> and <c>sockaddr_in6</c> as macOS and FreeBSD lay them out: a length byte (<c>sin_len</c>)
/// and a one-byte family where Linux has a two-byte family.
/// </summary>
/// <remarks>
/// <c>sockaddr_in</c> (16 bytes) = len u8, family u8, port u16 (network order), address 4 bytes, 8 zero bytes.
/// <c>sockaddr_in6</c> (28 bytes) = len u8, family u8, port u16 (network order), flow info u32, address 16 bytes,
/// scope id u32 (host order).
/// </remarks>
internal static class BsdSockAddr
{
    /// <summary>Fills <paramref name="bytes"/> (at least <see cref="SockAddr.Size"/> bytes) from
    /// <paramref name="endPoint"/> for a system whose AF_INET6 is <paramref name="inet6Family"/>; returns the length.</summary>
    internal static int FromEndPoint(IPEndPoint endPoint, Span<byte> bytes, int inet6Family)
    {
        bytes[..SockAddr.Size].Clear();
        BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], (ushort)endPoint.Port);
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[0] = SockAddr.InetLength;
            bytes[1] = Bsd.AF_INET;
            endPoint.Address.TryWriteBytes(bytes.Slice(4, 4), out _);
            return SockAddr.InetLength;
        }

        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            bytes[0] = SockAddr.Inet6Length;
            bytes[1] = (byte)inet6Family;
            endPoint.Address.TryWriteBytes(bytes.Slice(8, 16), out _);
            BitConverter.TryWriteBytes(bytes[24..], (uint)endPoint.Address.ScopeId);
            return SockAddr.Inet6Length;
        }

        throw new ArgumentException($"Address family {endPoint.AddressFamily} is not supported.", nameof(endPoint));
    }

    /// <summary>The endpoint a BSD socket address describes.</summary>
    internal static IPEndPoint ToEndPoint(ReadOnlySpan<byte> bytes, int inet6Family)
    {
        int family = bytes[1];
        int port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        if (family == Bsd.AF_INET)
            return new IPEndPoint(new IPAddress(bytes.Slice(4, 4)), port);
        if (family == inet6Family)
            return new IPEndPoint(new IPAddress(bytes.Slice(8, 16), BitConverter.ToUInt32(bytes[24..])), port);
        throw new ArgumentException($"Socket address family {family} is not supported.", nameof(bytes));
    }
}
