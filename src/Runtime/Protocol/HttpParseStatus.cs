namespace WsGen.Protocol;

/// <summary>The outcome of one call to <see cref="HttpRequestParser.TryParse"/>.</summary>
internal enum HttpParseStatus
{
    /// <summary>The blank line that ends the head has not arrived yet and nothing seen so far is wrong: call again with more bytes.</summary>
    NeedMore,

    /// <summary>The whole head was read; the bytes after it (possibly the first WebSocket frame) were not consumed.</summary>
    Complete,

    /// <summary>The head is malformed or over a limit; <see cref="HttpRequestHead.Error"/> carries the HTTP status to answer with.</summary>
    Error,
}

/// <summary>Why a request head was refused: the HTTP status to send and a short human-readable detail for the body.</summary>
internal readonly struct HttpError
{
    private readonly string? _detail;

    public HttpError(int statusCode, string detail)
    {
        StatusCode = statusCode;
        _detail = detail;
    }

    /// <summary>An HTTP status code (400, 414, 431, 505...), or 0 when there is no error.</summary>
    public int StatusCode { get; }

    /// <summary>A short ASCII explanation, safe to send back to the client; empty when there is no error.</summary>
    public string Detail => _detail ?? string.Empty;

    /// <summary>True when this value describes an actual error.</summary>
    public bool IsError => StatusCode != 0;

    public override string ToString() => IsError ? $"{StatusCode} {Detail}" : "no error";
}
