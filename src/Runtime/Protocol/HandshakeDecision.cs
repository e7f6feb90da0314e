using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

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
    private readonly AcceptBuffer _accept;

    private HandshakeDecision(int statusCode, string? subProtocol, string? detail)
    {
        StatusCode = statusCode;
        SubProtocol = subProtocol;
        Detail = detail;
    }

    private HandshakeDecision(ReadOnlySpan<byte> key, string? subProtocol)
        : this(HttpStatus.SwitchingProtocols, subProtocol, null)
    {
        Handshake.ComputeAccept(key, _accept);
    }

    /// <summary>True when the connection is upgraded (status 101).</summary>
    public bool IsAccepted => StatusCode == HttpStatus.SwitchingProtocols;

    /// <summary>101 when accepted, otherwise the refusal status (400, 403, 405, 426...).</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase of <see cref="StatusCode"/>.</summary>
    public string ReasonPhrase => HttpStatus.GetReasonPhrase(StatusCode) ?? string.Empty;

    /// <summary>When accepted, the 28-character Sec-WebSocket-Accept value (decoded on demand: for tests and logs).</summary>
    public string? AcceptValue => IsAccepted ? Encoding.ASCII.GetString(_accept) : null;

    /// <summary>When accepted, the Sec-WebSocket-Accept value as ASCII bytes, held inline (the decision allocates nothing).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AcceptBytes
    {
        get
        {
            ReadOnlySpan<byte> accept = _accept;
            return IsAccepted ? accept : default;
        }
    }

    /// <summary>When accepted, the subprotocol chosen among the client's offers, or null (an upgrade hook's choice
    /// replaces it with <c>with</c>).</summary>
    public string? SubProtocol { get; init; }

    /// <summary>When refused, a short explanation for the response body.</summary>
    public string? Detail { get; }

    /// <summary>Accepts the handshake of <paramref name="key"/> (the client's Sec-WebSocket-Key bytes).</summary>
    public static HandshakeDecision Accept(ReadOnlySpan<byte> key, string? subProtocol) => new(key, subProtocol);

    public static HandshakeDecision Reject(int statusCode, string detail) => new(statusCode, null, detail);

    public override string ToString() => IsAccepted
        ? $"101 accept {AcceptValue} subprotocol={SubProtocol ?? "(none)"}"
        : $"{StatusCode} {ReasonPhrase}: {Detail}";
}

/// <summary>The 28 bytes of a Sec-WebSocket-Accept value, stored inline.</summary>
[InlineArray(Handshake.AcceptLength)]
internal struct AcceptBuffer
{
    private byte _first;
}
