using WsGen.Protocol;

namespace WsGen;

/// <summary>
/// What an endpoint's <c>OnUpgrade</c> hook decides: accept (optionally choosing the subprotocol, adding response
/// headers and attaching the connection's state) or refuse with an HTTP status, headers and a short body.
/// </summary>
/// <example>
/// <code>
/// public WebSocketUpgradeDecision OnUpgrade(WebSocketUpgradeRequest request) =>
///     request.GetQueryValue("token") == "secret"
///         ? WebSocketUpgradeDecision.Accept(state: new User(request.GetQueryValue("name")))
///         : WebSocketUpgradeDecision.Refuse(401, "token required").WithHeader("WWW-Authenticate", "Bearer");
/// </code>
/// </example>
public readonly struct WebSocketUpgradeDecision
{
    /// <summary>The longest refusal body, in chars.</summary>
    public const int MaxBodyLength = 1024;

    private readonly KeyValuePair<string, string>[]? _headers;
    private readonly int _status;

    private WebSocketUpgradeDecision(int statusCode, object? state, string? subProtocol, string? body, KeyValuePair<string, string>[]? headers)
    {
        _status = statusCode;
        State = state;
        SubProtocol = subProtocol;
        Body = body;
        _headers = headers;
    }

    /// <summary>101 when accepted (also the value of <c>default</c>, which accepts), else the refusal's status.</summary>
    public int StatusCode => _status == 0 ? HttpStatus.SwitchingProtocols : _status;

    /// <summary>True when the connection is accepted.</summary>
    public bool IsAccepted => StatusCode == HttpStatus.SwitchingProtocols;

    /// <summary>When accepted, the state <see cref="WebSocketConnection.UserState"/> holds from OnOpen on, or null.</summary>
    public object? State { get; }

    /// <summary>When accepted, the subprotocol chosen (one the client offered), or null for the endpoint's own choice.</summary>
    public string? SubProtocol { get; }

    /// <summary>When refused, the response body (text/plain), or null.</summary>
    public string? Body { get; }

    /// <summary>Headers added to the response (101 or refusal), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers ?? [];

    /// <summary>Accepts the connection. <paramref name="state"/> is attached to it (<see cref="WebSocketConnection.UserState"/>)
    /// before OnOpen; <paramref name="subProtocol"/>, when set, must be one the client offered (else the handshake
    /// fails with 500).</summary>
    /// <exception cref="ArgumentException"><paramref name="subProtocol"/> is not an HTTP token.</exception>
    public static WebSocketUpgradeDecision Accept(object? state = null, string? subProtocol = null)
    {
        if (subProtocol is not null && !HttpSyntax.IsToken(subProtocol))
            throw new ArgumentException("A subprotocol is an HTTP token.", nameof(subProtocol));
        return new WebSocketUpgradeDecision(HttpStatus.SwitchingProtocols, state, subProtocol, null, null);
    }

    /// <summary>Refuses the connection with <paramref name="statusCode"/> (400 to 599) and an optional short body
    /// (at most <see cref="MaxBodyLength"/> chars, sent as ASCII: other chars become '?'); the socket is closed after it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The status is not in 400-599, or the body is too long.</exception>
    public static WebSocketUpgradeDecision Refuse(int statusCode, string? body = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        if (body is { Length: > MaxBodyLength })
            throw new ArgumentOutOfRangeException(nameof(body), $"A refusal body has at most {MaxBodyLength} chars.");
        return new WebSocketUpgradeDecision(statusCode, null, null, body, null);
    }

    /// <summary>This decision with the response header <paramref name="name"/>: <paramref name="value"/> added. The
    /// headers WsGen writes itself (Connection, Upgrade, Content-Length, Content-Type, Sec-WebSocket-*) are refused.</summary>
    /// <exception cref="ArgumentException">Not a token name, a value with bytes a header may not hold, or a reserved name.</exception>
    public WebSocketUpgradeDecision WithHeader(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!HttpSyntax.IsToken(name) || !HttpSyntax.IsFieldValue(value))
            throw new ArgumentException("A header is a token name and a value of visible chars, spaces and tabs.", nameof(name));
        if (IsReserved(name))
            throw new ArgumentException($"WsGen writes {name} itself.", nameof(name));
        KeyValuePair<string, string>[] headers = [.. _headers ?? [], new(name, value)];
        return new WebSocketUpgradeDecision(StatusCode, State, SubProtocol, Body, headers);
    }

    private static bool IsReserved(string name) =>
        name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Sec-WebSocket-", StringComparison.OrdinalIgnoreCase);
}

/// <summary>An endpoint's upgrade hook: decides on <paramref name="request"/> before the connection is accepted. A
/// synchronous decision is a completed <see cref="ValueTask{TResult}"/>; a pending one keeps the connection waiting
/// (see <see cref="WebSocketServerOptions.UpgradeTimeout"/>) while the loop goes on. Runs on the loop thread: it must
/// not block. An exception (thrown or in the task) refuses the handshake with 500.</summary>
public delegate ValueTask<WebSocketUpgradeDecision> WebSocketUpgradeHandler(WebSocketUpgradeRequest request);
