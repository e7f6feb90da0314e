using System.Text;

namespace WsGen.Protocol;

/// <summary>
/// The four parameters of permessage-deflate (RFC 7692 section 7.1) as one side offers or the other agrees them.
/// Window bits are 8 to 15; 0 means the parameter is absent, and <see cref="ClientWindowBits"/> may be -1 in an offer:
/// <c>client_max_window_bits</c> without a value (the client can limit its window when asked).
/// </summary>
internal readonly record struct DeflateParameters(bool ServerNoContextTakeover, bool ClientNoContextTakeover, int ServerWindowBits, int ClientWindowBits)
{
    /// <summary>The extension's token.</summary>
    public static ReadOnlySpan<byte> Name => "permessage-deflate"u8;

    /// <summary>The smallest window zlib can produce for a raw stream (it refuses 8).</summary>
    public const int MinDeflateWindowBits = 9;

    /// <summary>The longest text <see cref="Write"/> makes.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// Reads the parameters of one extension of a <c>Sec-WebSocket-Extensions</c> list (<c>permessage-deflate</c>
    /// followed by <c>; name[=value]</c> items): false when it is another extension, or when a parameter is unknown,
    /// repeated, has a value it must not have or lacks one it needs, or a window size outside 8-15. Values may be
    /// quoted (RFC 6455 section 9.1).
    /// </summary>
    /// <param name="extension">One element of the list, without its comma.</param>
    /// <param name="isResponse">A server's answer: <c>client_max_window_bits</c> then needs a value.</param>
    /// <param name="parameters">The parameters read.</param>
    public static bool TryParse(ReadOnlySpan<byte> extension, bool isResponse, out DeflateParameters parameters)
    {
        parameters = default;
        int semicolon = extension.IndexOf((byte)';');
        ReadOnlySpan<byte> name = Trim(semicolon < 0 ? extension : extension[..semicolon]);
        if (!name.SequenceEqual(Name))
            return false;

        bool serverNoTakeover = false, clientNoTakeover = false;
        int serverBits = 0, clientBits = 0;
        // Every semicolon is followed by a parameter: "permessage-deflate;" is not an offer.
        bool more = semicolon >= 0;
        ReadOnlySpan<byte> rest = more ? extension[(semicolon + 1)..] : default;
        while (more)
        {
            int next = rest.IndexOf((byte)';');
            ReadOnlySpan<byte> item = next < 0 ? rest : rest[..next];
            more = next >= 0;
            rest = more ? rest[(next + 1)..] : default;

            int eq = item.IndexOf((byte)'=');
            ReadOnlySpan<byte> key = Trim(eq < 0 ? item : item[..eq]);
            bool hasValue = eq >= 0;
            int bits = 0;
            if (hasValue && !TryParseBits(Unquote(Trim(item[(eq + 1)..])), out bits))
                return false;

            if (key.SequenceEqual("server_no_context_takeover"u8) && !hasValue && !serverNoTakeover)
                serverNoTakeover = true;
            else if (key.SequenceEqual("client_no_context_takeover"u8) && !hasValue && !clientNoTakeover)
                clientNoTakeover = true;
            else if (key.SequenceEqual("server_max_window_bits"u8) && hasValue && serverBits == 0)
                serverBits = bits;
            else if (key.SequenceEqual("client_max_window_bits"u8) && clientBits == 0 && (hasValue || !isResponse))
                clientBits = hasValue ? bits : -1;
            else
                return false;
        }

        parameters = new DeflateParameters(serverNoTakeover, clientNoTakeover, serverBits, clientBits);
        return true;
    }

    /// <summary>Takes the next element of a comma-separated extension list off <paramref name="list"/> (commas inside
    /// quoted strings do not split, and there a backslash escapes the next byte); false when the list is used up.</summary>
    public static bool NextElement(ref ReadOnlySpan<byte> list, out ReadOnlySpan<byte> element)
    {
        if (list.IsEmpty)
        {
            element = default;
            return false;
        }
        bool quoted = false;
        int i = 0;
        for (; i < list.Length; i++)
        {
            if (quoted && list[i] == '\\' && i + 1 < list.Length)
                i++;
            else if (list[i] == '"')
                quoted = !quoted;
            else if (list[i] == ',' && !quoted)
                break;
        }
        element = list[..i];
        list = i < list.Length ? list[(i + 1)..] : default;
        return true;
    }

    /// <summary>Writes the parameters as an extension element: <c>permessage-deflate</c> and each parameter present.</summary>
    /// <returns>The bytes written; <paramref name="dest"/> needs <see cref="MaxLength"/>.</returns>
    public int Write(Span<byte> dest)
    {
        int n = Append(dest, 0, Name);
        if (ServerNoContextTakeover)
            n = Append(dest, n, "; server_no_context_takeover"u8);
        if (ClientNoContextTakeover)
            n = Append(dest, n, "; client_no_context_takeover"u8);
        if (ServerWindowBits > 0)
            n = AppendBits(dest, Append(dest, n, "; server_max_window_bits="u8), ServerWindowBits);
        if (ClientWindowBits > 0)
            n = AppendBits(dest, Append(dest, n, "; client_max_window_bits="u8), ClientWindowBits);
        else if (ClientWindowBits < 0)
            n = Append(dest, n, "; client_max_window_bits"u8);
        return n;
    }

    private static int Append(Span<byte> dest, int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(dest[at..]);
        return at + text.Length;
    }

    private static int AppendBits(Span<byte> dest, int at, int bits)
    {
        if (bits >= 10)
            dest[at++] = (byte)('0' + bits / 10);
        dest[at++] = (byte)('0' + bits % 10);
        return at;
    }

    public override string ToString()
    {
        Span<byte> text = stackalloc byte[MaxLength];
        return Encoding.ASCII.GetString(text[..Write(text)]);
    }

    private static bool TryParseBits(ReadOnlySpan<byte> value, out int bits)
    {
        bits = 0;
        if (value.Length is < 1 or > 2)
            return false;
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
            bits = bits * 10 + (b - '0');
        }
        // "08" is not a valid value: the grammar is 1*DIGIT without a leading zero (RFC 7692 section 7.1.2).
        return value[0] != '0' && bits is >= 8 and <= 15;
    }

    private static ReadOnlySpan<byte> Unquote(ReadOnlySpan<byte> value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);
}
