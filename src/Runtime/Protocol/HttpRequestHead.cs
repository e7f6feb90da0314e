namespace WsGen.Protocol;

/// <summary>
/// The parts of an HTTP/1.1 request head that the WebSocket opening handshake needs (RFC 6455 section 4.2.1).
/// Header values are decoded as Latin-1 (one char per byte) with surrounding whitespace removed; a header sent on
/// several lines is kept as the comma-joined list, except Sec-WebSocket-Protocol, kept as its list of tokens.
/// </summary>
internal readonly struct HttpRequestHead
{
    private readonly string? _method;
    private readonly string? _path;
    private readonly IReadOnlyList<string>? _subProtocols;

    /// <summary>The request method, case-sensitive as sent (for example "GET").</summary>
    public string Method
    {
        get => _method ?? string.Empty;
        init => _method = value;
    }

    /// <summary>The request-target up to, not including, the first '?'. Always starts with '/' on a parsed head.</summary>
    public string Path
    {
        get => _path ?? string.Empty;
        init => _path = value;
    }

    /// <summary>The request-target after the first '?', without it; null when the target has no '?'.</summary>
    public string? Query { get; init; }

    /// <summary>The major digit of the HTTP version.</summary>
    public int VersionMajor { get; init; }

    /// <summary>The minor digit of the HTTP version.</summary>
    public int VersionMinor { get; init; }

    public string? Host { get; init; }

    public string? Upgrade { get; init; }

    public string? Connection { get; init; }

    public string? SecWebSocketKey { get; init; }

    public string? SecWebSocketVersion { get; init; }

    /// <summary>The subprotocols the client offers, in order, across every Sec-WebSocket-Protocol line; empty when none.</summary>
    public IReadOnlyList<string> SubProtocols
    {
        get => _subProtocols ?? [];
        init => _subProtocols = value;
    }

    public string? SecWebSocketExtensions { get; init; }

    public string? Origin { get; init; }

    /// <summary>The number of header lines, known or not.</summary>
    public int HeaderCount { get; init; }

    /// <summary>The length in bytes of the head, final blank line included.</summary>
    public int Length { get; init; }

    /// <summary>Set when <see cref="HttpRequestParser.TryParse"/> returned <see cref="HttpParseStatus.Error"/>; the
    /// other members are then empty.</summary>
    public HttpError Error { get; init; }
}
