namespace WsGen.Protocol;

/// <summary>
/// The outcome of <see cref="Handshake.Validate"/>: accept (with the Sec-WebSocket-Accept value and the chosen
/// subprotocol) or refuse with an HTTP status.
/// </summary>
/// <remarks>
/// A refusal's extra headers follow from its status and are written by <see cref="Handshake.WriteReject(Span{byte}, int, string?)"/>:
/// <c>Upgrade: websocket</c> and <c>Sec-WebSocket-Version: 13</c> with 426, <c>Allow: GET</c> with 405, and
/// <c>Connection: close</c> always.
/// </remarks>
internal readonly struct HandshakeDecision
{
    private HandshakeDecision(int statusCode, string? acceptValue, string? subProtocol, string? detail)
    {
        StatusCode = statusCode;
        AcceptValue = acceptValue;
        SubProtocol = subProtocol;
        Detail = detail;
    }

    /// <summary>True when the connection is upgraded (status 101).</summary>
    public bool IsAccepted => StatusCode == HttpStatus.SwitchingProtocols;

    /// <summary>101 when accepted, otherwise the refusal status (400, 403, 405, 426...).</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase of <see cref="StatusCode"/>.</summary>
    public string ReasonPhrase => HttpStatus.GetReasonPhrase(StatusCode) ?? string.Empty;

    /// <summary>When accepted, the 28-character Sec-WebSocket-Accept value.</summary>
    public string? AcceptValue { get; }

    /// <summary>When accepted, the subprotocol chosen among the client's offers, or null.</summary>
    public string? SubProtocol { get; }

    /// <summary>When refused, a short explanation for the response body.</summary>
    public string? Detail { get; }

    public static HandshakeDecision Accept(string acceptValue, string? subProtocol) =>
        new(HttpStatus.SwitchingProtocols, acceptValue, subProtocol, null);

    public static HandshakeDecision Reject(int statusCode, string detail) => new(statusCode, null, null, detail);

    public override string ToString() => IsAccepted
        ? $"101 accept {AcceptValue} subprotocol={SubProtocol ?? "(none)"}"
        : $"{StatusCode} {ReasonPhrase}: {Detail}";
}
