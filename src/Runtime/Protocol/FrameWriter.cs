using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace WsGen.Protocol;

/// <summary>
/// Writes frames (RFC 6455 section 5.2) with the minimal length encoding. A server passes no mask key; a client
/// passes a fresh random key per frame (section 5.3). Nothing here allocates.
/// </summary>
internal static class FrameWriter
{
    /// <summary>The header size for a payload of <paramref name="payloadLength"/> bytes: 2 to 14.</summary>
    public static int HeaderSize(long payloadLength, bool masked)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        int size = payloadLength <= FrameHeader.MaxShortLength ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;
        return masked ? size + 4 : size;
    }

    /// <summary>The header size of an unmasked frame (a server's) with <paramref name="payloadLength"/> bytes: 2, 4 or 10.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnmaskedHeaderSize(int payloadLength)
        => payloadLength <= FrameHeader.MaxShortLength ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    /// <summary>
    /// Writes an unmasked frame (a server's; RSV bits clear) into <paramref name="dest"/>, which must be exactly
    /// <see cref="UnmaskedHeaderSize"/> plus <paramref name="payload"/>'s length: the header, then the payload. The
    /// per-message path of the server; <see cref="WriteFrame"/> is the general form.
    /// </summary>
    public static void WriteUnmaskedFrame(Span<byte> dest, WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        int headerSize = dest.Length - payload.Length;
        WriteUnmaskedHeader(dest.Slice(0, headerSize), opcode, fin, payload.Length);
        payload.CopyTo(dest.Slice(headerSize));
    }

    /// <summary>
    /// Writes the header of an unmasked frame (a server's; RSV bits clear) with a payload of
    /// <paramref name="payloadLength"/> bytes into <paramref name="dest"/>, which must be exactly
    /// <see cref="UnmaskedHeaderSize"/> long.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteUnmaskedHeader(Span<byte> dest, WebSocketOpcode opcode, bool fin, int payloadLength)
    {
        Debug.Assert(dest.Length == UnmaskedHeaderSize(payloadLength), "dest must hold exactly the header.");
        dest[0] = (byte)((fin ? 0x80 : 0) | ((byte)opcode & 0x0F));
        if (dest.Length == 2)
        {
            dest[1] = (byte)payloadLength;
        }
        else if (dest.Length == 4)
        {
            dest[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(dest.Slice(2), (ushort)payloadLength);
        }
        else
        {
            dest[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(dest.Slice(2), (ulong)payloadLength);
        }
    }

    /// <summary>
    /// Writes the header of a frame into <paramref name="dest"/> and returns its size (at most 14), with RSV1 set when
    /// <paramref name="rsv1"/> (a message transform's frame) and the other RSV bits clear.
    /// When <paramref name="maskKey"/> is set the MASK bit is set and the key written (little-endian, see <see cref="Masking"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dest"/> is too small.</exception>
    public static int WriteHeader(Span<byte> dest, WebSocketOpcode opcode, bool fin, long payloadLength, uint? maskKey = null, bool rsv1 = false)
    {
        int size = HeaderSize(payloadLength, maskKey.HasValue);
        if (dest.Length < size)
            throw new ArgumentException("The destination is too small for the frame header.", nameof(dest));

        dest[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | ((byte)opcode & 0x0F));
        byte maskBit = maskKey.HasValue ? (byte)0x80 : (byte)0;
        int position;
        if (payloadLength <= FrameHeader.MaxShortLength)
        {
            dest[1] = (byte)(maskBit | (byte)payloadLength);
            position = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            dest[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(dest.Slice(2), (ushort)payloadLength);
            position = 4;
        }
        else
        {
            dest[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(dest.Slice(2), (ulong)payloadLength);
            position = 10;
        }

        if (maskKey is uint key)
            BinaryPrimitives.WriteUInt32LittleEndian(dest.Slice(position), key);
        return size;
    }

    /// <summary>
    /// Writes a whole frame: the header, then <paramref name="payload"/>, masked with <paramref name="maskKey"/>
    /// when set (the source is left as it is). Returns the bytes written.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dest"/> is too small.</exception>
    public static int WriteFrame(Span<byte> dest, WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload, uint? maskKey = null, bool rsv1 = false)
    {
        int headerSize = HeaderSize(payload.Length, maskKey.HasValue);
        if (dest.Length - headerSize < payload.Length)
            throw new ArgumentException("The destination is too small for the frame.", nameof(dest));

        WriteHeader(dest, opcode, fin, payload.Length, maskKey, rsv1);
        Span<byte> body = dest.Slice(headerSize, payload.Length);
        payload.CopyTo(body);
        if (maskKey is uint key)
            Masking.Unmask(body, key, 0);
        return headerSize + payload.Length;
    }

    /// <summary>
    /// Writes a close frame with <paramref name="code"/> and <paramref name="reason"/> (cut to 123 UTF-8 bytes, see
    /// <see cref="CloseCodes.WriteClosePayload"/>; 1005 gives an empty body). Needs at most 131 bytes. Returns the bytes written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="code"/> may not be sent.</exception>
    /// <exception cref="ArgumentException"><paramref name="dest"/> is too small.</exception>
    public static int WriteClose(Span<byte> dest, ushort code, ReadOnlySpan<char> reason, uint? maskKey = null)
    {
        Span<byte> body = stackalloc byte[CloseCodes.MaxPayloadLength];
        int length = CloseCodes.WriteClosePayload(body, code, reason);
        return WriteFrame(dest, WebSocketOpcode.Close, fin: true, body.Slice(0, length), maskKey);
    }
}
