using System.Buffers;
using System.Text;

namespace WsGen.Protocol;

/// <summary>
/// The pieces of HTTP/1.1 grammar (RFC 9110 section 5, RFC 9112) that the handshake needs: tokens, field
/// values, header lines, the version token and comma-separated lists.
/// </summary>
internal static class HttpSyntax
{
    private const string TokenCharacters =
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly SearchValues<byte> s_tokenBytes = SearchValues.Create(Encoding.ASCII.GetBytes(TokenCharacters));
    private static readonly SearchValues<char> s_tokenChars = SearchValues.Create(TokenCharacters);
    private static readonly SearchValues<byte> s_fieldValueBytes = SearchValues.Create(FieldValueBytes());
    private static readonly SearchValues<char> s_fieldValueChars = SearchValues.Create(Encoding.Latin1.GetString(FieldValueBytes()));

    /// <summary>The bytes a request-target may hold: visible ASCII except '#' (a fragment is never sent).</summary>
    private static readonly SearchValues<byte> s_targetBytes = SearchValues.Create(TargetBytes());

    /// <summary>The optional whitespace (OWS) of RFC 9110: space and horizontal tab.</summary>
    public static ReadOnlySpan<byte> Ows => " \t"u8;

    /// <summary>True when <paramref name="value"/> is a non-empty RFC 9110 token.</summary>
    public static bool IsToken(ReadOnlySpan<byte> value) => !value.IsEmpty && !value.ContainsAnyExcept(s_tokenBytes);

    /// <inheritdoc cref="IsToken(ReadOnlySpan{byte})"/>
    public static bool IsToken(ReadOnlySpan<char> value) => !value.IsEmpty && !value.ContainsAnyExcept(s_tokenChars);

    /// <summary>True when every byte is allowed in a field value: HTAB, SP, visible ASCII or obs-text (0x80-0xFF).
    /// Control characters (CR, LF, NUL...) are not.</summary>
    public static bool IsFieldValue(ReadOnlySpan<byte> value) => !value.ContainsAnyExcept(s_fieldValueBytes);

    /// <inheritdoc cref="IsFieldValue(ReadOnlySpan{byte})"/>
    public static bool IsFieldValue(ReadOnlySpan<char> value) => !value.ContainsAnyExcept(s_fieldValueChars);

    /// <summary>True when <paramref name="target"/> is an origin-form request-target: starts with '/', then visible ASCII
    /// other than '#'.</summary>
    public static bool IsOriginForm(ReadOnlySpan<byte> target) =>
        !target.IsEmpty && target[0] == (byte)'/' && !target.ContainsAnyExcept(s_targetBytes);

    /// <inheritdoc cref="IsOriginForm(ReadOnlySpan{byte})"/>
    public static bool IsOriginForm(ReadOnlySpan<char> target)
    {
        if (target.IsEmpty || target[0] != '/')
        {
            return false;
        }

        foreach (char c in target)
        {
            if (c is < '!' or > '~' or '#')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Splits a header line (without its CRLF) into name and value. The name must be a token directly followed by
    /// ':' (so whitespace before the colon, and a line starting with whitespace, an obs-fold, are refused); the value
    /// loses its surrounding OWS and must contain only field-value bytes.
    /// </summary>
    public static bool TrySplitHeaderLine(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        int colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        value = colon > 0 ? line[(colon + 1)..].Trim(Ows) : default;
        return colon > 0 && IsToken(name) && IsFieldValue(value);
    }

    /// <summary>Parses an HTTP-version token, exactly <c>HTTP/</c> DIGIT <c>.</c> DIGIT (RFC 9112 section 2.3, case-sensitive).</summary>
    public static bool TryParseVersion(ReadOnlySpan<byte> value, out int major, out int minor)
    {
        if (value.Length == 8 && value.StartsWith("HTTP/"u8) && IsDigit(value[5]) && value[6] == (byte)'.' && IsDigit(value[7]))
        {
            major = value[5] - '0';
            minor = value[7] - '0';
            return true;
        }

        major = minor = 0;
        return false;
    }

    /// <summary>True for the ASCII digits 0-9.</summary>
    public static bool IsDigit(byte value) => (uint)(value - '0') <= 9;

    /// <summary>
    /// Takes the next element of a comma-separated list (RFC 9110 section 5.6.1) off <paramref name="rest"/>, without
    /// its OWS. Empty elements are returned as empty spans (callers skip them). Returns false when the list is exhausted.
    /// </summary>
    public static bool NextListElement(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> element)
    {
        if (rest.IsEmpty)
        {
            element = default;
            return false;
        }

        int comma = rest.IndexOf((byte)',');
        element = (comma < 0 ? rest : rest[..comma]).Trim(Ows);
        rest = comma < 0 ? default : rest[(comma + 1)..];
        return true;
    }

    /// <inheritdoc cref="NextListElement(ref ReadOnlySpan{byte}, out ReadOnlySpan{byte})"/>
    public static bool NextListElement(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> element)
    {
        if (rest.IsEmpty)
        {
            element = default;
            return false;
        }

        int comma = rest.IndexOf(',');
        element = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
        rest = comma < 0 ? default : rest[(comma + 1)..];
        return true;
    }

    /// <summary>True when the comma-separated <paramref name="list"/> has an element equal to <paramref name="token"/>,
    /// ignoring ASCII case (as for the Upgrade and Connection headers).</summary>
    public static bool ListContains(ReadOnlySpan<char> list, string token)
    {
        while (NextListElement(ref list, out var element))
        {
            if (Ascii.EqualsIgnoreCase(element, token))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc cref="ListContains(ReadOnlySpan{char}, string)"/>
    public static bool ListContains(ReadOnlySpan<byte> list, string token)
    {
        while (NextListElement(ref list, out var element))
        {
            if (Ascii.EqualsIgnoreCase(element, token))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] FieldValueBytes()
    {
        var bytes = new List<byte> { (byte)'\t' };
        for (int b = 0x20; b <= 0xFF; b++)
        {
            if (b != 0x7F)
            {
                bytes.Add((byte)b);
            }
        }

        return bytes.ToArray();
    }

    private static byte[] TargetBytes()
    {
        var bytes = new List<byte>();
        for (int b = '!'; b <= '~'; b++)
        {
            if (b != '#')
            {
                bytes.Add((byte)b);
            }
        }

        return bytes.ToArray();
    }
}
