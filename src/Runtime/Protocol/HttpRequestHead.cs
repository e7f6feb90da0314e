using System.Text;

namespace WsGen.Protocol;

/// <summary>
/// A parsed HTTP/1.1 request head (RFC 6455 section 4.2.1): views into the request bytes, valid as long as those
/// bytes are. Reading it through the span members allocates nothing; the string members decode on demand (Latin-1,
/// one char per byte, surrounding whitespace removed) and are meant for tests, diagnostics and the endpoint hooks.
/// </summary>
/// <remarks>
/// A header sent on several lines reads as the comma-joined list through its string member, except
/// Sec-WebSocket-Protocol, read as its list of tokens.
/// </remarks>
internal readonly ref struct HttpRequestHead
{
    /// <summary>The head's bytes, request line to blank line (empty on an error head).</summary>
    internal ReadOnlySpan<byte> Bytes { get; init; }

    /// <summary>The request method, case-sensitive as sent (for example "GET").</summary>
    public ReadOnlySpan<byte> MethodBytes { get; init; }

    /// <summary>The request-target up to, not including, the first '?'. Always starts with '/' on a parsed head.</summary>
    public ReadOnlySpan<byte> PathBytes { get; init; }

    /// <summary>The request-target after the first '?', without it (see <see cref="HasQuery"/>).</summary>
    public ReadOnlySpan<byte> QueryBytes { get; init; }

    /// <summary>True when the request-target has a '?'.</summary>
    public bool HasQuery { get; init; }

    public ReadOnlySpan<byte> HostBytes { get; init; }

    public ReadOnlySpan<byte> SecWebSocketKeyBytes { get; init; }

    public ReadOnlySpan<byte> SecWebSocketVersionBytes { get; init; }

    public ReadOnlySpan<byte> OriginBytes { get; init; }

    /// <summary>Which known headers were sent at least once (bits indexed by <see cref="KnownHeader"/>).</summary>
    internal int Seen { get; init; }

    /// <summary>The major digit of the HTTP version.</summary>
    public int VersionMajor { get; init; }

    /// <summary>The minor digit of the HTTP version.</summary>
    public int VersionMinor { get; init; }

    /// <summary>The number of header lines, known or not.</summary>
    public int HeaderCount { get; init; }

    /// <summary>The length in bytes of the head, final blank line included.</summary>
    public int Length { get; init; }

    /// <summary>Set when <see cref="HttpRequestParser.TryParse"/> returned <see cref="HttpParseStatus.Error"/>; the
    /// other members are then empty.</summary>
    public HttpError Error { get; init; }

    public string Method => Encoding.ASCII.GetString(MethodBytes);

    public string Path => Encoding.ASCII.GetString(PathBytes);

    /// <summary>The query as a string; null when the target has no '?'.</summary>
    public string? Query => HasQuery ? Encoding.ASCII.GetString(QueryBytes) : null;

    public string? Host => Text(KnownHeader.Host, HostBytes);

    public string? SecWebSocketKey => Text(KnownHeader.SecWebSocketKey, SecWebSocketKeyBytes);

    public string? SecWebSocketVersion => Text(KnownHeader.SecWebSocketVersion, SecWebSocketVersionBytes);

    public string? Origin => Text(KnownHeader.Origin, OriginBytes);

    public string? Upgrade => Joined(KnownHeader.Upgrade);

    public string? Connection => Joined(KnownHeader.Connection);

    public string? SecWebSocketExtensions => Joined(KnownHeader.SecWebSocketExtensions);

    /// <summary>True when the header was sent at least once.</summary>
    public bool Has(KnownHeader header) => (Seen & (1 << (int)header)) != 0;

    /// <summary>The subprotocols the client offers, in order, across every Sec-WebSocket-Protocol line; empty when none.</summary>
    public IReadOnlyList<string> SubProtocols
    {
        get
        {
            List<string>? list = null;
            foreach (var value in Values(KnownHeader.SecWebSocketProtocol))
            {
                var rest = value;
                while (HttpSyntax.NextListElement(ref rest, out var element))
                {
                    if (!element.IsEmpty)
                        (list ??= []).Add(Encoding.ASCII.GetString(element));
                }
            }

            return list is null ? [] : list.ToArray();
        }
    }

    /// <summary>True when a line of <paramref name="header"/> lists <paramref name="token"/>, ignoring ASCII case
    /// (as for Upgrade and Connection: a list split over lines contains what one of its lines contains).</summary>
    public bool ListContains(KnownHeader header, string token)
    {
        foreach (var value in Values(header))
        {
            if (HttpSyntax.ListContains(value, token))
                return true;
        }

        return false;
    }

    /// <summary>True when the client offered <paramref name="subProtocol"/> (compared case-sensitively).</summary>
    public bool OffersSubProtocol(string subProtocol)
    {
        foreach (var value in Values(KnownHeader.SecWebSocketProtocol))
        {
            var rest = value;
            while (HttpSyntax.NextListElement(ref rest, out var element))
            {
                if (Ascii.Equals(element, subProtocol))
                    return true;
            }
        }

        return false;
    }

    /// <summary>The values of every line of <paramref name="header"/>, in order.</summary>
    public HeaderValueEnumerator Values(KnownHeader header) => new(Has(header) ? Bytes : default, header);

    private string? Text(KnownHeader header, ReadOnlySpan<byte> value) => Has(header) ? Encoding.Latin1.GetString(value) : null;

    private string? Joined(KnownHeader header)
    {
        string? joined = null;
        foreach (var value in Values(header))
        {
            string text = Encoding.Latin1.GetString(value);
            joined = joined is null ? text : string.Concat(joined, ", ", text);
        }

        return joined;
    }
}

/// <summary>The headers the handshake looks at; the rest are <see cref="Other"/>.</summary>
internal enum KnownHeader
{
    Other,
    Host,
    Origin,
    Upgrade,
    Connection,
    SecWebSocketKey,
    SecWebSocketVersion,
    SecWebSocketProtocol,
    SecWebSocketExtensions,
}

/// <summary>Walks the header lines of a head that already parsed, yielding the values of one header.</summary>
internal ref struct HeaderValueEnumerator
{
    private HttpLineReader _reader;
    private readonly KnownHeader _header;
    private bool _started;

    public HeaderValueEnumerator(ReadOnlySpan<byte> head, KnownHeader header)
    {
        _reader = new HttpLineReader(head, head.Length);
        _header = header;
    }

    public ReadOnlySpan<byte> Current { get; private set; }

    public readonly HeaderValueEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (!_started)
        {
            _started = true;
            if (_reader.TryReadLine(out _) != HttpLineStatus.Line)
                return false;
        }

        while (_reader.TryReadLine(out var line) == HttpLineStatus.Line && !line.IsEmpty)
        {
            if (HttpSyntax.TrySplitHeaderLine(line, out var name, out var value) && HttpRequestParser.Classify(name) == _header)
            {
                Current = value;
                return true;
            }
        }

        return false;
    }
}
