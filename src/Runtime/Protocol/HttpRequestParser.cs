using System.Text;

namespace WsGen.Protocol;

/// <summary>
/// A strict, incremental parser of the HTTP/1.1 request head that opens a WebSocket connection.
/// </summary>
/// <remarks>
/// <para>The parser keeps no state between calls: the caller accumulates the bytes received so far and calls again
/// with all of them. It allocates nothing: the head it returns is a set of views into
/// the buffer. Errors are reported as soon as the bytes seen prove them, before the head ends.</para>
/// <para>Policies (answered with the status in parentheses):</para>
/// <list type="bullet">
/// <item>Lines end in CRLF; a bare LF, or a CR not followed by LF, is refused (400). No empty line may precede the
/// request line (400).</item>
/// <item>Request line: a method token, one SP, an origin-form target (starting with '/', visible ASCII, no '#'), one
/// SP, <c>HTTP/</c>DIGIT<c>.</c>DIGIT (400). A target longer than <see cref="HandshakeLimits.MaxRequestTargetLength"/>
/// (414). RFC 6455 requires HTTP/1.1 or higher: HTTP/1.1 to HTTP/1.9 are accepted; HTTP/1.0 and HTTP/0.x are refused
/// with 400 (an upgrade needs HTTP/1.1 semantics, and we do speak HTTP/1.x); HTTP/2 and higher in a text request line
/// are refused with 505 (those versions never send one).</item>
/// <item>Header lines: a token name directly followed by ':' (whitespace before the colon, 400); no obs-fold
/// continuation line (400); values without control characters (400).</item>
/// <item>More than <see cref="HandshakeLimits.MaxHeaderCount"/> header lines, or a head longer than
/// <see cref="HandshakeLimits.MaxHeaderBytes"/> (431), the latter as soon as that many bytes arrived without the end.</item>
/// <item>Host, Sec-WebSocket-Key, Sec-WebSocket-Version and Origin sent more than once (400). Upgrade, Connection and
/// Sec-WebSocket-Extensions sent on several lines are joined with ", ". Every Sec-WebSocket-Protocol element must be a
/// token (400).</item>
/// </list>
/// </remarks>
internal static class HttpRequestParser
{
    /// <summary>
    /// Parses the request head at the start of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">Every byte received so far on the connection.</param>
    /// <param name="limits">The size limits to enforce.</param>
    /// <param name="head">On <see cref="HttpParseStatus.Complete"/>, the head; on <see cref="HttpParseStatus.Error"/>, a
    /// head whose <see cref="HttpRequestHead.Error"/> holds the status to answer with; otherwise default.</param>
    /// <param name="consumed">On <see cref="HttpParseStatus.Complete"/>, the length of the head: the bytes after it belong
    /// to the WebSocket stream. Otherwise 0.</param>
    public static HttpParseStatus TryParse(ReadOnlySpan<byte> buffer, HandshakeLimits limits, out HttpRequestHead head, out int consumed)
    {
        ArgumentNullException.ThrowIfNull(limits);

        var fields = default(HeadFields);
        var status = Scan(buffer, limits, ref fields, out consumed, out var error);
        head = status switch
        {
            HttpParseStatus.Complete => fields.ToHead(buffer[..consumed]),
            HttpParseStatus.Error => new HttpRequestHead { Error = error },
            _ => default,
        };
        return status;
    }

    private static HttpParseStatus Scan(ReadOnlySpan<byte> buffer, HandshakeLimits limits, ref HeadFields fields, out int consumed, out HttpError error)
    {
        consumed = 0;
        var reader = new HttpLineReader(buffer, limits.MaxHeaderBytes);

        switch (reader.TryReadLine(out var line))
        {
            case HttpLineStatus.NeedMore:
                return CheckPartialRequestLine(reader.Remaining, reader.IsWindowFull, limits, out error);
            case HttpLineStatus.Malformed:
                // What the line's bytes already proved wrong before its end (the method, a target too long) is the
                // answer, as it was for every shorter prefix: the same status whatever the chunking.
                var beforeLineFeed = reader.Remaining[..reader.Remaining.IndexOf((byte)'\n')];
                return CheckPartialRequestLine(beforeLineFeed, windowFull: false, limits, out error) == HttpParseStatus.Error
                    ? HttpParseStatus.Error
                    : Fail(HttpStatus.BadRequest, "request line not terminated by CRLF", out error);
        }

        if (!ParseRequestLine(line, limits, ref fields, out error))
        {
            return HttpParseStatus.Error;
        }

        while (true)
        {
            switch (reader.TryReadLine(out line))
            {
                case HttpLineStatus.NeedMore:
                    return reader.IsWindowFull
                        ? Fail(HttpStatus.RequestHeaderFieldsTooLarge, "request head too large", out error)
                        : HttpParseStatus.NeedMore;
                case HttpLineStatus.Malformed:
                    return Fail(HttpStatus.BadRequest, "header line not terminated by CRLF", out error);
            }

            if (line.IsEmpty)
            {
                consumed = reader.Position;
                return HttpParseStatus.Complete;
            }

            if (++fields.HeaderCount > limits.MaxHeaderCount)
            {
                return Fail(HttpStatus.RequestHeaderFieldsTooLarge, "too many header fields", out error);
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                return Fail(HttpStatus.BadRequest, "obsolete line folding", out error);
            }

            if (!HttpSyntax.TrySplitHeaderLine(line, out var name, out var value))
            {
                return Fail(HttpStatus.BadRequest, "malformed header field", out error);
            }

            if (!AddHeader(ref fields, name, value, out error))
            {
                return HttpParseStatus.Error;
            }
        }
    }

    /// <summary>Finds what is already wrong in a request line that has not ended yet.</summary>
    private static HttpParseStatus CheckPartialRequestLine(ReadOnlySpan<byte> partial, bool windowFull, HandshakeLimits limits, out HttpError error)
    {
        int space = partial.IndexOf((byte)' ');
        var method = space < 0 ? partial : partial[..space];
        if (space == 0 || (!method.IsEmpty && !HttpSyntax.IsToken(method)))
        {
            return Fail(HttpStatus.BadRequest, "malformed request line", out error);
        }

        if (space > 0)
        {
            var afterMethod = partial[(space + 1)..];
            int targetEnd = afterMethod.IndexOfAny((byte)' ', (byte)'\r');
            int targetLength = targetEnd < 0 ? afterMethod.Length : targetEnd;
            if (targetLength > limits.MaxRequestTargetLength)
            {
                return Fail(HttpStatus.UriTooLong, "request target too long", out error);
            }
        }

        return windowFull
            ? Fail(HttpStatus.RequestHeaderFieldsTooLarge, "request head too large", out error)
            : Ok(HttpParseStatus.NeedMore, out error);
    }

    private static bool ParseRequestLine(ReadOnlySpan<byte> line, HandshakeLimits limits, ref HeadFields fields, out HttpError error)
    {
        int space = line.IndexOf((byte)' ');
        if (space <= 0 || !HttpSyntax.IsToken(line[..space]))
        {
            return FailLine(out error);
        }

        var method = line[..space];
        var rest = line[(space + 1)..];
        space = rest.IndexOf((byte)' ');
        // The target's length is judged before the rest of the line, as CheckPartialRequestLine does while the line
        // is arriving: the same status whatever the chunking.
        if ((space < 0 ? rest.Length : space) > limits.MaxRequestTargetLength)
        {
            error = new HttpError(HttpStatus.UriTooLong, "request target too long");
            return false;
        }

        if (space < 0)
        {
            return FailLine(out error);
        }

        var target = rest[..space];
        var version = rest[(space + 1)..];

        if (!HttpSyntax.IsOriginForm(target) || !HttpSyntax.TryParseVersion(version, out int major, out int minor))
        {
            return FailLine(out error);
        }

        if (major >= 2)
        {
            error = new HttpError(HttpStatus.HttpVersionNotSupported, "HTTP/1.1 required");
            return false;
        }

        if (major == 0 || minor == 0)
        {
            error = new HttpError(HttpStatus.BadRequest, "HTTP/1.1 or higher required");
            return false;
        }

        fields.VersionMajor = major;
        fields.VersionMinor = minor;
        fields.Method = method;
        int question = target.IndexOf((byte)'?');
        fields.Path = question < 0 ? target : target[..question];
        fields.HasQuery = question >= 0;
        fields.Query = question < 0 ? default : target[(question + 1)..];

        error = default;
        return true;

        static bool FailLine(out HttpError error)
        {
            error = new HttpError(HttpStatus.BadRequest, "malformed request line");
            return false;
        }
    }

    private static bool AddHeader(ref HeadFields fields, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out HttpError error)
    {
        error = default;
        var header = Classify(name);
        switch (header)
        {
            case KnownHeader.Host:
                return SetOnce(ref fields, ref fields.Host, header, value, "duplicate Host", out error);
            case KnownHeader.SecWebSocketKey:
                return SetOnce(ref fields, ref fields.Key, header, value, "duplicate Sec-WebSocket-Key", out error);
            case KnownHeader.SecWebSocketVersion:
                return SetOnce(ref fields, ref fields.Version, header, value, "duplicate Sec-WebSocket-Version", out error);
            case KnownHeader.Origin:
                return SetOnce(ref fields, ref fields.Origin, header, value, "duplicate Origin", out error);
            case KnownHeader.SecWebSocketProtocol:
                fields.Seen |= 1 << (int)header;
                return CheckSubProtocols(value, out error);
            case KnownHeader.Other:
                return true;
            default:
                // Upgrade, Connection, Sec-WebSocket-Extensions: lists, read line by line from the head when needed.
                fields.Seen |= 1 << (int)header;
                return true;
        }
    }

    private static bool SetOnce(ref HeadFields fields, ref ReadOnlySpan<byte> slot, KnownHeader header, ReadOnlySpan<byte> value, string duplicateDetail, out HttpError error)
    {
        int bit = 1 << (int)header;
        if ((fields.Seen & bit) != 0)
        {
            error = new HttpError(HttpStatus.BadRequest, duplicateDetail);
            return false;
        }

        fields.Seen |= bit;
        slot = value;
        error = default;
        return true;
    }

    private static bool CheckSubProtocols(ReadOnlySpan<byte> value, out HttpError error)
    {
        var rest = value;
        while (HttpSyntax.NextListElement(ref rest, out var element))
        {
            if (!element.IsEmpty && !HttpSyntax.IsToken(element))
            {
                error = new HttpError(HttpStatus.BadRequest, "malformed Sec-WebSocket-Protocol");
                return false;
            }
        }

        error = default;
        return true;
    }

    /// <summary>Which header the handshake knows <paramref name="name"/> as (names compare ignoring ASCII case).</summary>
    internal static KnownHeader Classify(ReadOnlySpan<byte> name) => name.Length switch
    {
        4 when Ascii.EqualsIgnoreCase(name, "Host"u8) => KnownHeader.Host,
        6 when Ascii.EqualsIgnoreCase(name, "Origin"u8) => KnownHeader.Origin,
        7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8) => KnownHeader.Upgrade,
        10 when Ascii.EqualsIgnoreCase(name, "Connection"u8) => KnownHeader.Connection,
        17 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8) => KnownHeader.SecWebSocketKey,
        21 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8) => KnownHeader.SecWebSocketVersion,
        22 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8) => KnownHeader.SecWebSocketProtocol,
        24 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Extensions"u8) => KnownHeader.SecWebSocketExtensions,
        _ => KnownHeader.Other,
    };

    private static HttpParseStatus Fail(int statusCode, string detail, out HttpError error)
    {
        error = new HttpError(statusCode, detail);
        return HttpParseStatus.Error;
    }

    private static HttpParseStatus Ok(HttpParseStatus status, out HttpError error)
    {
        error = default;
        return status;
    }

    /// <summary>What the scan collects: views into the buffer, flags and counts. Nothing is decoded.</summary>
    private ref struct HeadFields
    {
        public int Seen;
        public int HeaderCount;
        public int VersionMajor;
        public int VersionMinor;
        public bool HasQuery;
        public ReadOnlySpan<byte> Method;
        public ReadOnlySpan<byte> Path;
        public ReadOnlySpan<byte> Query;
        public ReadOnlySpan<byte> Host;
        public ReadOnlySpan<byte> Key;
        public ReadOnlySpan<byte> Version;
        public ReadOnlySpan<byte> Origin;

        public readonly HttpRequestHead ToHead(ReadOnlySpan<byte> head) => new()
        {
            Bytes = head,
            MethodBytes = Method,
            PathBytes = Path,
            QueryBytes = Query,
            HasQuery = HasQuery,
            HostBytes = Host,
            SecWebSocketKeyBytes = Key,
            SecWebSocketVersionBytes = Version,
            OriginBytes = Origin,
            Seen = Seen,
            VersionMajor = VersionMajor,
            VersionMinor = VersionMinor,
            HeaderCount = HeaderCount,
            Length = head.Length,
        };
    }
}
