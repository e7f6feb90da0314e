namespace WsGen.Protocol;

/// <summary>The HTTP status codes the handshake answers with, and their reason phrases.</summary>
internal static class HttpStatus
{
    public const int SwitchingProtocols = 101;
    public const int BadRequest = 400;
    public const int Unauthorized = 401;
    public const int Forbidden = 403;
    public const int NotFound = 404;
    public const int MethodNotAllowed = 405;
    public const int RequestTimeout = 408;
    public const int UriTooLong = 414;
    public const int UpgradeRequired = 426;
    public const int TooManyRequests = 429;
    public const int RequestHeaderFieldsTooLarge = 431;
    public const int InternalServerError = 500;
    public const int ServiceUnavailable = 503;
    public const int HttpVersionNotSupported = 505;

    /// <summary>The reason phrase of <paramref name="statusCode"/>, or null when WsGen never sends that status.</summary>
    public static string? GetReasonPhrase(int statusCode) => statusCode switch
    {
        SwitchingProtocols => "Switching Protocols",
        BadRequest => "Bad Request",
        Unauthorized => "Unauthorized",
        Forbidden => "Forbidden",
        NotFound => "Not Found",
        MethodNotAllowed => "Method Not Allowed",
        RequestTimeout => "Request Timeout",
        UriTooLong => "URI Too Long",
        UpgradeRequired => "Upgrade Required",
        TooManyRequests => "Too Many Requests",
        RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
        InternalServerError => "Internal Server Error",
        ServiceUnavailable => "Service Unavailable",
        HttpVersionNotSupported => "HTTP Version Not Supported",
        _ => null,
    };
}
