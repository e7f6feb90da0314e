using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace WsGen.Native;

/// <summary>
/// Storage for a <c>sockaddr_in</c> (16 bytes) or <c>sockaddr_in6</c> (28 bytes), with conversions from and to
/// <see cref="IPEndPoint"/>.
/// </summary>
/// <remarks>
/// Layouts (Linux): <c>sockaddr_in</c> = family u16 (host order), port u16 (network order), address 4 bytes,
/// 8 zero bytes. <c>sockaddr_in6</c> = family u16, port u16 (network order), flow info u32, address 16 bytes,
/// scope id u32 (host order).
/// </remarks>
[InlineArray(Size)]
internal struct SockAddr
{
    /// <summary>Large enough for both address families.</summary>
    internal const int Size = 28;
    internal const int InetLength = 16;
    internal const int Inet6Length = 28;

    private byte _first;

    /// <summary>Fills a socket address from <paramref name="endPoint"/>; returns its length in bytes.</summary>
    internal static int FromEndPoint(IPEndPoint endPoint, out SockAddr address)
    {
        address = default;
        Span<byte> bytes = address;
        BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], (ushort)endPoint.Port);
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            BitConverter.TryWriteBytes(bytes, (ushort)Libc.AF_INET);
            endPoint.Address.TryWriteBytes(bytes.Slice(4, 4), out _);
            return InetLength;
        }

        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            BitConverter.TryWriteBytes(bytes, (ushort)Libc.AF_INET6);
            endPoint.Address.TryWriteBytes(bytes.Slice(8, 16), out _);
            BitConverter.TryWriteBytes(bytes[24..], (uint)endPoint.Address.ScopeId);
            return Inet6Length;
        }

        throw new ArgumentException($"Address family {endPoint.AddressFamily} is not supported.", nameof(endPoint));
    }

    /// <summary>The endpoint a socket address describes.</summary>
    internal static IPEndPoint ToEndPoint(ReadOnlySpan<byte> bytes)
    {
        int family = BitConverter.ToUInt16(bytes);
        int port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        switch (family)
        {
            case Libc.AF_INET:
                return new IPEndPoint(new IPAddress(bytes.Slice(4, 4)), port);
            case Libc.AF_INET6:
                long scope = BitConverter.ToUInt32(bytes[24..]);
                return new IPEndPoint(new IPAddress(bytes.Slice(8, 16), scope), port);
            default:
                throw new ArgumentException($"Socket address family {family} is not supported.", nameof(bytes));
        }
    }
}
