using System.Security.Cryptography;
using System.Text;

namespace WsGen.Protocol;

/// <summary>The client side of the opening handshake (RFC 6455 sections 4.1 and 4.2.2).</summary>
internal static partial class Handshake
{
    /// <summary>A fresh Sec-WebSocket-Key: the base64 of 16 random bytes (RFC 6455 section 4.1).</summary>
    public static string CreateClientKey()
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        return Convert.ToBase64String(nonce);
    }

    /// <summary>
    /// Writes the client's upgrade request:
    /// <c>GET pathAndQuery HTTP/1.1</c>, Host, <c>Upgrade: websocket</c>, <c>Connection: Upgrade</c>, Sec-WebSocket-Key,
    /// <c>Sec-WebSocket-Version: 13</c>, then Sec-WebSocket-Protocol (the offers joined with ", ") and Origin when given.
    /// Sec-WebSocket-Extensions when <c>extensions</c> is not empty.
    /// </summary>
    /// <param name="dest">Receives the request; <see cref="GetClientRequestLength"/> bytes are needed.</param>
    /// <param name="host">The Host value (host, and ":port" when not the default one).</param>
    /// <param name="pathAndQuery">The request-target, starting with '/'.</param>
    /// <param name="key16base64">The key: ASCII base64 of 16 bytes, see <see cref="CreateClientKey"/>.</param>
    /// <param name="subProtocols">The subprotocols to offer, in preference order: distinct tokens.</param>
    /// <param name="origin">The Origin value, or null to send none.</param>
    /// <param name="extensions">The Sec-WebSocket-Extensions offer (empty for none).</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">An argument would make an invalid request (control characters, a key that is
    /// not base64 of 16 bytes, a subprotocol that is not a token or is repeated), or <paramref name="dest"/> is too short.</exception>
    public static int WriteClientRequest(Span<byte> dest, string host, string pathAndQuery, ReadOnlySpan<byte> key16base64,
        IReadOnlyList<string>? subProtocols, string? origin, ReadOnlySpan<byte> extensions = default)
    {
        var writer = new HttpHeadWriter(dest);
        WriteClientRequestCore(ref writer, host, pathAndQuery, key16base64, subProtocols, origin, extensions);
        return writer.Length;
    }

    /// <summary>The length of the request <see cref="WriteClientRequest"/> writes for these arguments.</summary>
    public static int GetClientRequestLength(string host, string pathAndQuery, ReadOnlySpan<byte> key16base64,
        IReadOnlyList<string>? subProtocols, string? origin, ReadOnlySpan<byte> extensions = default)
    {
        var writer = HttpHeadWriter.Measure();
        WriteClientRequestCore(ref writer, host, pathAndQuery, key16base64, subProtocols, origin, extensions);
        return writer.Length;
    }

    /// <summary>
    /// Checks the server's answer to the request sent with <paramref name="expectedKey"/>.
    /// </summary>
    /// <remarks>
    /// The head is read with the strict rules of the request parser (CRLF, no obs-fold, default
    /// <see cref="HandshakeLimits"/>) and judged once complete. Accepted only with: an HTTP/1.1+ status line with 101;
    /// Upgrade listing <c>websocket</c> and Connection listing <c>Upgrade</c> (any case); exactly one
    /// Sec-WebSocket-Accept equal to the value computed from <paramref name="expectedKey"/>; no Sec-WebSocket-Extensions
    /// unless permessage-deflate was offered, and then at most one, a valid permessage-deflate answer (RFC 7692
    /// section 7.1) whose client window this side can produce (9 bits or more); at most one Sec-WebSocket-Protocol, a
    /// single value that was offered (exact match).
    /// </remarks>
    /// <param name="buffer">Every byte received so far.</param>
    /// <param name="expectedKey">The Sec-WebSocket-Key sent in the request.</param>
    /// <param name="offered">The subprotocols offered in the request, or null.</param>
    /// <param name="offeredDeflate">True when the request offered permessage-deflate.</param>
    /// <param name="consumed">The length of the response head once complete (the bytes after it are WebSocket frames);
    /// 0 while <see cref="ClientHandshakeStatus.NeedMore"/> or when the head was malformed.</param>
    public static ClientHandshakeResult ParseServerResponse(ReadOnlySpan<byte> buffer, string expectedKey,
        IReadOnlyList<string>? offered, out int consumed, bool offeredDeflate = false)
    {
        ArgumentNullException.ThrowIfNull(expectedKey);
        if (expectedKey.Length > 64)
        {
            throw new ArgumentException("Not a Sec-WebSocket-Key.", nameof(expectedKey));
        }

        consumed = 0;
        var limits = HandshakeLimits.Default;
        var reader = new HttpLineReader(buffer, limits.MaxHeaderBytes);

        var lineStatus = reader.TryReadLine(out var line);
        if (lineStatus != HttpLineStatus.Line)
        {
            return NeedMoreOrFail(lineStatus, reader.IsWindowFull, 0);
        }

        if (!TryParseStatusLine(line, out int statusCode))
        {
            return ClientHandshakeResult.Failed("malformed status line");
        }

        var response = new ResponseFields { OfferedDeflate = offeredDeflate };
        int headerCount = 0;
        while (true)
        {
            lineStatus = reader.TryReadLine(out line);
            if (lineStatus != HttpLineStatus.Line)
            {
                return NeedMoreOrFail(lineStatus, reader.IsWindowFull, statusCode);
            }

            if (line.IsEmpty)
            {
                consumed = reader.Position;
                break;
            }

            if (++headerCount > limits.MaxHeaderCount)
            {
                return ClientHandshakeResult.Failed("too many header fields in the response", statusCode);
            }

            if (!HttpSyntax.TrySplitHeaderLine(line, out var name, out var value))
            {
                return ClientHandshakeResult.Failed("malformed header field in the response", statusCode);
            }

            if (response.Add(name, value, offered) is { } problem)
            {
                return ClientHandshakeResult.Failed(problem, statusCode);
            }
        }

        if (statusCode != HttpStatus.SwitchingProtocols)
        {
            return ClientHandshakeResult.Failed($"the server answered {statusCode} instead of 101", statusCode);
        }

        Span<byte> expectedAccept = stackalloc byte[AcceptLength];
        ComputeAccept(expectedKey, expectedAccept);
        string? failure =
            !response.UpgradeWebSocket ? "the response lacks Upgrade: websocket"
            : !response.ConnectionUpgrade ? "the response lacks Connection: Upgrade"
            : !response.HasAccept ? "the response lacks Sec-WebSocket-Accept"
            : !expectedAccept.SequenceEqual(response.Accept) ? "wrong Sec-WebSocket-Accept"
            : null;
        return failure is null
            ? ClientHandshakeResult.Accepted(response.SubProtocol, response.Deflate)
            : ClientHandshakeResult.Failed(failure, statusCode);
    }

    private static ClientHandshakeResult NeedMoreOrFail(HttpLineStatus status, bool windowFull, int statusCode) =>
        status == HttpLineStatus.Malformed ? ClientHandshakeResult.Failed("response line not terminated by CRLF", statusCode)
        : windowFull ? ClientHandshakeResult.Failed("response head too large", statusCode)
        : ClientHandshakeResult.NeedMore;

    /// <summary>Parses <c>HTTP/1.x SP 3DIGIT [SP reason-phrase]</c>, with x at least 1.</summary>
    private static bool TryParseStatusLine(ReadOnlySpan<byte> line, out int statusCode)
    {
        statusCode = 0;
        if (line.Length < 12
            || !HttpSyntax.TryParseVersion(line[..8], out int major, out int minor) || major != 1 || minor < 1
            || line[8] != (byte)' '
            || !HttpSyntax.IsDigit(line[9]) || !HttpSyntax.IsDigit(line[10]) || !HttpSyntax.IsDigit(line[11]))
        {
            return false;
        }

        if (line.Length > 12 && (line[12] != (byte)' ' || !HttpSyntax.IsFieldValue(line[13..])))
        {
            return false;
        }

        statusCode = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        return true;
    }

    private static void WriteClientRequestCore(ref HttpHeadWriter writer, string host, string pathAndQuery,
        scoped ReadOnlySpan<byte> key16base64, IReadOnlyList<string>? subProtocols, string? origin, scoped ReadOnlySpan<byte> extensions)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        if (host.Length == 0 || !HttpSyntax.IsFieldValue(host) || host.AsSpan().ContainsAny(' ', '\t'))
        {
            throw new ArgumentException("Not a valid Host value.", nameof(host));
        }

        if (!HttpSyntax.IsOriginForm(pathAndQuery))
        {
            throw new ArgumentException("The request target must start with '/' and hold only visible ASCII.", nameof(pathAndQuery));
        }

        Span<char> keyChars = stackalloc char[KeyLength];
        if (key16base64.Length != KeyLength || Encoding.ASCII.GetChars(key16base64, keyChars) != KeyLength || !IsValidKey(keyChars))
        {
            throw new ArgumentException("The key must be the base64 of 16 bytes.", nameof(key16base64));
        }

        if (origin is not null && (origin.Length == 0 || !HttpSyntax.IsFieldValue(origin)))
        {
            throw new ArgumentException("Not a valid Origin value.", nameof(origin));
        }

        writer.Write("GET "u8);
        writer.WriteLatin1(pathAndQuery);
        writer.Write(" HTTP/1.1\r\nHost: "u8);
        writer.WriteLatin1(host);
        writer.Write("\r\n"u8);
        writer.WriteHeader("Upgrade"u8, "websocket"u8);
        writer.WriteHeader("Connection"u8, "Upgrade"u8);
        writer.WriteHeader("Sec-WebSocket-Key"u8, key16base64);
        writer.WriteHeader("Sec-WebSocket-Version"u8, "13"u8);
        if (!extensions.IsEmpty)
        {
            writer.WriteHeader("Sec-WebSocket-Extensions"u8, extensions);
        }

        if (subProtocols is { Count: > 0 })
        {
            writer.Write("Sec-WebSocket-Protocol: "u8);
            for (int i = 0; i < subProtocols.Count; i++)
            {
                string protocol = subProtocols[i];
                if (protocol is null || !HttpSyntax.IsToken(protocol) || IndexOf(subProtocols, protocol, i) >= 0)
                {
                    throw new ArgumentException("Subprotocols must be distinct tokens.", nameof(subProtocols));
                }

                if (i > 0)
                {
                    writer.Write(", "u8);
                }

                writer.WriteLatin1(protocol);
            }

            writer.Write("\r\n"u8);
        }

        if (origin is not null)
        {
            writer.Write("Origin: "u8);
            writer.WriteLatin1(origin);
            writer.Write("\r\n"u8);
        }

        writer.Write("\r\n"u8);
    }

    /// <summary>The index of <paramref name="value"/> among the first <paramref name="count"/> items, or -1.</summary>
    private static int IndexOf(IReadOnlyList<string> items, string value, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (string.Equals(items[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>What the client collects from the response headers, without allocating.</summary>
    private ref struct ResponseFields
    {
        public bool UpgradeWebSocket;
        public bool ConnectionUpgrade;
        public bool HasAccept;
        public ReadOnlySpan<byte> Accept;
        public bool HasSubProtocol;
        public string? SubProtocol;
        public bool OfferedDeflate;
        public DeflateParameters? Deflate;

        /// <summary>Takes one header into account; returns why the response fails, or null.</summary>
        public string? Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, IReadOnlyList<string>? offered)
        {
            if (Ascii.EqualsIgnoreCase(name, "Upgrade"u8))
            {
                UpgradeWebSocket |= HttpSyntax.ListContains(value, "websocket");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                ConnectionUpgrade |= HttpSyntax.ListContains(value, "Upgrade");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Accept"u8))
            {
                if (HasAccept)
                {
                    return "duplicate Sec-WebSocket-Accept";
                }

                HasAccept = true;
                Accept = value;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Extensions"u8))
            {
                if (value.IsEmpty)
                {
                    return null;
                }

                if (!OfferedDeflate)
                {
                    return "the server accepted an extension that was not offered";
                }

                if (Deflate.HasValue || value.Contains((byte)',') || !DeflateParameters.TryParse(value, isResponse: true, out var agreed))
                {
                    return "the server's permessage-deflate answer is not valid";
                }

                if (agreed.ClientWindowBits is > 0 and < DeflateParameters.MinDeflateWindowBits)
                {
                    return "the server asked for a client window smaller than 9 bits";
                }

                Deflate = agreed;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8))
            {
                if (HasSubProtocol)
                {
                    return "more than one Sec-WebSocket-Protocol";
                }

                HasSubProtocol = true;
                if (!value.IsEmpty)
                {
                    SubProtocol = FindOffered(offered, value);
                    if (SubProtocol is null)
                    {
                        return "the server chose a subprotocol that was not offered";
                    }
                }
            }

            return null;
        }

        private static string? FindOffered(IReadOnlyList<string>? offered, ReadOnlySpan<byte> value)
        {
            if (offered is null)
            {
                return null;
            }

            for (int i = 0; i < offered.Count; i++)
            {
                if (Ascii.Equals(value, offered[i]))
                {
                    return offered[i];
                }
            }

            return null;
        }
    }
}
