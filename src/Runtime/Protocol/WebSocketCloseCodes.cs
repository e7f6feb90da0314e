using System.Buffers.Binary;
using System.Text.Unicode;

namespace WsGen.Protocol;

/// <summary>The verdict of <see cref="CloseCodes.ParseClosePayload"/>. The error values equal the close code to fail with.</summary>
internal enum CloseParseResult : ushort
{
    /// <summary>The payload is a valid close body (or empty).</summary>
    Ok = 0,

    /// <summary>A one-byte body or a code that may not appear on the wire: fail with 1002.</summary>
    ProtocolError = 1002,

    /// <summary>The reason is not valid UTF-8: fail with 1007.</summary>
    InvalidPayloadData = 1007,
}

/// <summary>Close codes (RFC 6455 section 7.4) and the body of close frames (section 5.5.1).</summary>
internal static class CloseCodes
{
    /// <summary>The largest close reason in UTF-8 bytes: a control payload holds at most 125 bytes, 2 of them the code.</summary>
    public const int MaxReasonBytes = 123;

    /// <summary>The largest close payload: the code and <see cref="MaxReasonBytes"/>.</summary>
    public const int MaxPayloadLength = 2 + MaxReasonBytes;

    /// <summary>Reported for a close frame without a body; never sent.</summary>
    public const ushort NoStatusReceived = 1005;

    /// <summary>
    /// True when <paramref name="code"/> may appear in a close frame: 1000-1003 and 1007-1014 (defined by the RFC
    /// and the IANA registry), 3000-4999 (registered and private use). 1004, 1005, 1006 and 1015 are reserved and
    /// never sent; 0-999, 1016-2999 and 5000 and above are not used.
    /// </summary>
    public static bool IsValidReceived(ushort code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };

    /// <summary>
    /// Reads the body of a received close frame. An empty body gives <see cref="NoStatusReceived"/> and an empty
    /// reason. A one-byte body or a code that <see cref="IsValidReceived"/> rejects gives
    /// <see cref="CloseParseResult.ProtocolError"/>; a reason that is not UTF-8 gives
    /// <see cref="CloseParseResult.InvalidPayloadData"/>. <paramref name="reason"/> is a slice of <paramref name="payload"/>.
    /// </summary>
    public static CloseParseResult ParseClosePayload(ReadOnlySpan<byte> payload, out ushort code, out ReadOnlySpan<byte> reason)
    {
        reason = default;
        if (payload.IsEmpty)
        {
            code = NoStatusReceived;
            return CloseParseResult.Ok;
        }

        if (payload.Length == 1)
        {
            code = 0;
            return CloseParseResult.ProtocolError;
        }

        code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!IsValidReceived(code))
            return CloseParseResult.ProtocolError;

        reason = payload.Slice(2);
        return Utf8.IsValid(reason) ? CloseParseResult.Ok : CloseParseResult.InvalidPayloadData;
    }

    /// <summary>
    /// Writes a close body into <paramref name="dest"/>: the code in network order, then <paramref name="reason"/> in
    /// UTF-8, cut at a character boundary to at most <see cref="MaxReasonBytes"/> bytes (or to what
    /// <paramref name="dest"/> holds). Unpaired surrogates in the reason become U+FFFD. Returns the bytes written.
    /// <see cref="NoStatusReceived"/> writes an empty body (a close frame without a status, as when echoing one).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="code"/> may not be sent.</exception>
    /// <exception cref="ArgumentException"><paramref name="dest"/> is shorter than 2 bytes.</exception>
    public static int WriteClosePayload(Span<byte> dest, ushort code, ReadOnlySpan<char> reason)
    {
        if (code == NoStatusReceived)
            return 0;
        if (!IsValidReceived(code))
            throw new ArgumentOutOfRangeException(nameof(code), code, "This close code may not be sent.");
        if (dest.Length < 2)
            throw new ArgumentException("The destination must hold at least the 2 bytes of the code.", nameof(dest));

        BinaryPrimitives.WriteUInt16BigEndian(dest, code);
        if (reason.IsEmpty)
            return 2;

        Span<byte> room = dest.Slice(2, Math.Min(MaxReasonBytes, dest.Length - 2));
        // On DestinationTooSmall the transcoder stops after the last whole scalar value that fits,
        // which is exactly the character-boundary truncation a close reason needs.
        Utf8.FromUtf16(reason, room, out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
        return 2 + written;
    }
}
