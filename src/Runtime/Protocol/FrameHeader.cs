using System.Buffers.Binary;

namespace WsGen.Protocol;

/// <summary>The outcome of <see cref="FrameHeader.TryParse"/>.</summary>
internal enum HeaderParseStatus : byte
{
    /// <summary>The data ends inside the header; nothing was read.</summary>
    NeedMore,

    /// <summary>The header was read.</summary>
    Ok,

    /// <summary>A 64-bit payload length with its most significant bit set (RFC 6455 section 5.2): fail with 1002.</summary>
    InvalidLength,

    /// <summary>A length in a longer form than needed (RFC 6455 section 5.2 requires the minimal one): fail with 1002.</summary>
    NonMinimalLength,
}

/// <summary>
/// The header of one frame (RFC 6455 section 5.2). It only describes the bytes: whether the opcode, reserved bits
/// and mask bit are acceptable is for the reader to decide.
/// </summary>
internal readonly struct FrameHeader
{
    /// <summary>The longest header: 2 bytes, an 8-byte length and a 4-byte mask key.</summary>
    public const int MaxLength = 14;

    /// <summary>The largest payload length that fits the 7-bit form, and the largest control-frame payload.</summary>
    public const int MaxShortLength = 125;

    public FrameHeader(bool fin, byte rsv, WebSocketOpcode opcode, bool masked, uint maskKey, long payloadLength, int headerLength)
    {
        Fin = fin;
        Rsv = rsv;
        Opcode = opcode;
        Masked = masked;
        MaskKey = maskKey;
        PayloadLength = payloadLength;
        HeaderLength = headerLength;
    }

    /// <summary>The FIN bit: the last frame of a message.</summary>
    public bool Fin { get; }

    /// <summary>RSV1, RSV2 and RSV3 as the 3 low bits (RSV1 is 4).</summary>
    public byte Rsv { get; }

    /// <summary>The opcode, possibly one RFC 6455 does not define.</summary>
    public WebSocketOpcode Opcode { get; }

    /// <summary>The MASK bit.</summary>
    public bool Masked { get; }

    /// <summary>The 4 mask key bytes read little-endian (see <see cref="Masking"/>); 0 when not masked.</summary>
    public uint MaskKey { get; }

    /// <summary>The payload length, 0 to 2^63-1.</summary>
    public long PayloadLength { get; }

    /// <summary>The header size in bytes, 2 to 14.</summary>
    public int HeaderLength { get; }

    /// <summary>True for Close, Ping and Pong (and the reserved control opcodes 0xB-0xF).</summary>
    public bool IsControl => ((byte)Opcode & 0x8) != 0;

    /// <summary>
    /// Reads a header from the start of <paramref name="data"/>. Returns <see cref="HeaderParseStatus.NeedMore"/>
    /// when the header is incomplete, or an error as soon as the bytes of the length field are there.
    /// </summary>
    public static HeaderParseStatus TryParse(ReadOnlySpan<byte> data, out FrameHeader header)
    {
        header = default;
        if (data.Length < 2)
            return HeaderParseStatus.NeedMore;

        byte first = data[0];
        byte second = data[1];
        long length = second & 0x7F;
        int headerLength = 2;
        if (length == 126)
        {
            if (data.Length < 4)
                return HeaderParseStatus.NeedMore;
            length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(2));
            if (length <= MaxShortLength)
                return HeaderParseStatus.NonMinimalLength;
            headerLength = 4;
        }
        else if (length == 127)
        {
            if (data.Length < 10)
                return HeaderParseStatus.NeedMore;
            ulong wide = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(2));
            if ((long)wide < 0)
                return HeaderParseStatus.InvalidLength;
            if (wide <= ushort.MaxValue)
                return HeaderParseStatus.NonMinimalLength;
            length = (long)wide;
            headerLength = 10;
        }

        bool masked = (second & 0x80) != 0;
        uint maskKey = 0;
        if (masked)
        {
            if (data.Length < headerLength + 4)
                return HeaderParseStatus.NeedMore;
            maskKey = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(headerLength));
            headerLength += 4;
        }

        header = new FrameHeader(
            fin: (first & 0x80) != 0,
            rsv: (byte)((first >> 4) & 0x7),
            opcode: (WebSocketOpcode)(first & 0x0F),
            masked,
            maskKey,
            length,
            headerLength);
        return HeaderParseStatus.Ok;
    }
}
