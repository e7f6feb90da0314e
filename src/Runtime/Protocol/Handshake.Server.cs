namespace WsGen.Protocol;

/// <summary>The server side of the opening handshake (RFC 6455 section 4.2).</summary>
internal static partial class Handshake
{
    /// <summary>
    /// Decides whether a parsed request opens a WebSocket connection.
    /// </summary>
    /// <remarks>
    /// The rules, checked in this order (the first failing one gives the answer):
    /// <list type="number">
    /// <item>A head that failed to parse (<see cref="HttpRequestHead.Error"/>): that error's status.</item>
    /// <item>HTTP/1.1 or a later 1.x (400; 505 for 2 and higher).</item>
    /// <item>Method GET, case-sensitive (405, with <c>Allow: GET</c>: the resource exists, only the method is wrong).</item>
    /// <item>A non-empty Host (400).</item>
    /// <item>Upgrade: a list with the token <c>websocket</c>, any case (400).</item>
    /// <item>Connection: a list with the token <c>Upgrade</c>, any case (400).</item>
    /// <item>Sec-WebSocket-Version exactly <c>13</c>; missing or anything else: 426 with <c>Sec-WebSocket-Version: 13</c>,
    /// checked before the key so that a client of another version learns which one to use.</item>
    /// <item>Sec-WebSocket-Key: base64 of exactly 16 bytes (400).</item>
    /// <item><see cref="HandshakeOptions.CheckOrigin"/> (403).</item>
    /// <item>When the client offered subprotocols: the first of <see cref="HandshakeOptions.SupportedSubProtocols"/> it
    /// offered, else <see cref="HandshakeOptions.SelectSubProtocol"/>'s choice.</item>
    /// </list>
    /// Sec-WebSocket-Extensions is not looked at here: the server answers permessage-deflate (see
    /// <see cref="DeflateNegotiation"/>) and passes the agreed value to <see cref="WriteAccept(Span{byte}, in HandshakeDecision, ReadOnlySpan{byte})"/>. Nothing is allocated unless a
    /// hook is set (<see cref="HandshakeOptions.CheckOrigin"/> gets the Origin string, <see cref="HandshakeOptions.SelectSubProtocol"/>
    /// the offered list): the accept value is held inline in the decision.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The subprotocol hook returned a value the client did not offer.</exception>
    public static HandshakeDecision Validate(in HttpRequestHead head, HandshakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        if (head.Error.IsError)
        {
            return HandshakeDecision.Reject(head.Error.StatusCode, head.Error.Detail);
        }

        if (head.VersionMajor != 1 || head.VersionMinor < 1)
        {
            return head.VersionMajor >= 2
                ? HandshakeDecision.Reject(HttpStatus.HttpVersionNotSupported, "HTTP/1.1 required")
                : HandshakeDecision.Reject(HttpStatus.BadRequest, "HTTP/1.1 or higher required");
        }

        if (!head.MethodBytes.SequenceEqual("GET"u8))
        {
            return HandshakeDecision.Reject(HttpStatus.MethodNotAllowed, "a WebSocket handshake uses GET");
        }

        if (head.HostBytes.IsEmpty)
        {
            return HandshakeDecision.Reject(HttpStatus.BadRequest, "missing Host");
        }

        if (!head.ListContains(KnownHeader.Upgrade, "websocket"))
        {
            return HandshakeDecision.Reject(HttpStatus.BadRequest, "Upgrade: websocket required");
        }

        if (!head.ListContains(KnownHeader.Connection, "Upgrade"))
        {
            return HandshakeDecision.Reject(HttpStatus.BadRequest, "Connection: Upgrade required");
        }

        if (!head.SecWebSocketVersionBytes.SequenceEqual("13"u8))
        {
            return HandshakeDecision.Reject(HttpStatus.UpgradeRequired, "Sec-WebSocket-Version 13 required");
        }

        var key = head.SecWebSocketKeyBytes;
        if (!IsValidKey(key))
        {
            return HandshakeDecision.Reject(HttpStatus.BadRequest, "invalid Sec-WebSocket-Key");
        }

        if (options.CheckOrigin is { } checkOrigin && !checkOrigin(head.Origin))
        {
            return HandshakeDecision.Reject(HttpStatus.Forbidden, "origin not allowed");
        }

        string? subProtocol = head.Has(KnownHeader.SecWebSocketProtocol) ? SelectSubProtocol(in head, options) : null;
        return HandshakeDecision.Accept(key, subProtocol);
    }

    /// <summary>The subprotocol to answer with, for a client that sent Sec-WebSocket-Protocol: the first of
    /// <see cref="HandshakeOptions.SupportedSubProtocols"/> it offered (our own string, not a copy), else what the
    /// <see cref="HandshakeOptions.SelectSubProtocol"/> hook picks, else null.</summary>
    private static string? SelectSubProtocol(in HttpRequestHead head, HandshakeOptions options)
    {
        if (options.SupportedSubProtocols is { } ours)
        {
            for (int i = 0; i < ours.Count; i++)
            {
                if (head.OffersSubProtocol(ours[i]))
                {
                    return ours[i];
                }
            }
        }

        var offered = options.SelectSubProtocol is null ? [] : head.SubProtocols;
        if (offered.Count > 0 && options.SelectSubProtocol!(offered) is { } chosen)
        {
            return FindOffered(offered, chosen)
                ?? throw new InvalidOperationException($"The subprotocol selector returned '{chosen}', which the client did not offer.");
        }

        return null;
    }

    /// <summary>
    /// Writes the 101 response that accepts the handshake.
    /// </summary>
    /// <param name="dest">Receives the response; <see cref="GetAcceptLength(string?, ReadOnlySpan{byte})"/> bytes are needed.</param>
    /// <param name="key">The client's Sec-WebSocket-Key (ASCII bytes).</param>
    /// <param name="subProtocol">The chosen subprotocol (a token), or null.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException"><paramref name="dest"/> is too short, or <paramref name="subProtocol"/> is not a token.</exception>
    public static int WriteAccept(Span<byte> dest, ReadOnlySpan<byte> key, string? subProtocol)
    {
        Span<byte> accept = stackalloc byte[AcceptLength];
        ComputeAccept(key, accept);
        var writer = new HttpHeadWriter(dest);
        WriteAcceptCore(ref writer, accept, subProtocol);
        return writer.Length;
    }

    /// <summary>Writes the 101 response of an accepting <paramref name="decision"/>.</summary>
    /// <param name="dest">Receives the response; <see cref="GetAcceptLength(string?, ReadOnlySpan{byte})"/> bytes are needed.</param>
    /// <param name="decision">An accepting decision.</param>
    /// <param name="extensions">The Sec-WebSocket-Extensions value agreed (empty for none).</param>
    /// <returns>The number of bytes written.</returns>
    public static int WriteAccept(Span<byte> dest, in HandshakeDecision decision, ReadOnlySpan<byte> extensions = default)
    {
        if (!decision.IsAccepted)
        {
            throw new ArgumentException("The decision does not accept the handshake.", nameof(decision));
        }

        var writer = new HttpHeadWriter(dest);
        WriteAcceptCore(ref writer, decision.AcceptBytes, decision.SubProtocol, extensions);
        return writer.Length;
    }

    /// <summary>The length of the 101 response for <paramref name="subProtocol"/>.</summary>
    public static int GetAcceptLength(string? subProtocol, ReadOnlySpan<byte> extensions = default)
    {
        Span<byte> accept = stackalloc byte[AcceptLength];
        var writer = HttpHeadWriter.Measure();
        WriteAcceptCore(ref writer, accept, subProtocol, extensions);
        return writer.Length;
    }

    /// <summary>
    /// Writes a refusal: the status line, <c>Connection: close</c>, the headers the status calls for
    /// (<c>Upgrade: websocket</c> and <c>Sec-WebSocket-Version: 13</c> with 426, <c>Allow: GET</c> with 405), and a
    /// short text/plain body "status reason: detail". The caller closes the connection after sending it.
    /// </summary>
    /// <param name="dest">Receives the response; <see cref="GetRejectLength"/> bytes are needed.</param>
    /// <param name="statusCode">One of 400, 403, 404, 405, 414, 426, 431, 500, 503, 505.</param>
    /// <param name="detail">A short explanation; chars outside printable ASCII are sent as '?'.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not one of the above.</exception>
    /// <exception cref="ArgumentException"><paramref name="dest"/> is too short.</exception>
    public static int WriteReject(Span<byte> dest, int statusCode, string? detail = null)
    {
        var writer = new HttpHeadWriter(dest);
        WriteRejectCore(ref writer, statusCode, detail);
        return writer.Length;
    }

    /// <summary>Writes the refusal of a refusing <paramref name="decision"/>.</summary>
    public static int WriteReject(Span<byte> dest, in HandshakeDecision decision)
    {
        if (decision.IsAccepted)
        {
            throw new ArgumentException("The decision accepts the handshake.", nameof(decision));
        }

        return WriteReject(dest, decision.StatusCode, decision.Detail);
    }

    /// <summary>The length of the refusal <see cref="WriteReject(Span{byte}, int, string?)"/> writes.</summary>
    public static int GetRejectLength(int statusCode, string? detail = null)
    {
        var writer = HttpHeadWriter.Measure();
        WriteRejectCore(ref writer, statusCode, detail);
        return writer.Length;
    }

    private static void WriteAcceptCore(ref HttpHeadWriter writer, scoped ReadOnlySpan<byte> accept, string? subProtocol, scoped ReadOnlySpan<byte> extensions = default)
    {
        if (subProtocol is not null && !HttpSyntax.IsToken(subProtocol))
        {
            throw new ArgumentException("A subprotocol must be a token.", nameof(subProtocol));
        }

        writer.Write("HTTP/1.1 101 Switching Protocols\r\n"u8);
        writer.WriteHeader("Upgrade"u8, "websocket"u8);
        writer.WriteHeader("Connection"u8, "Upgrade"u8);
        writer.WriteHeader("Sec-WebSocket-Accept"u8, accept);
        if (subProtocol is not null)
        {
            writer.Write("Sec-WebSocket-Protocol: "u8);
            writer.WriteLatin1(subProtocol);
            writer.Write("\r\n"u8);
        }

        if (!extensions.IsEmpty)
        {
            writer.WriteHeader("Sec-WebSocket-Extensions"u8, extensions);
        }

        writer.Write("\r\n"u8);
    }

    private static void WriteRejectCore(ref HttpHeadWriter writer, int statusCode, string? detail)
    {
        if (statusCode < 400 || HttpStatus.GetReasonPhrase(statusCode) is not { } reason)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "Not a refusal status WsGen sends.");
        }

        int bodyLength = 3 + 1 + reason.Length + (string.IsNullOrEmpty(detail) ? 0 : 2 + detail.Length) + 1;

        writer.Write("HTTP/1.1 "u8);
        writer.WriteInt32(statusCode);
        writer.Write(" "u8);
        writer.WriteLatin1(reason);
        writer.Write("\r\n"u8);
        writer.WriteHeader("Connection"u8, "close"u8);
        if (statusCode == HttpStatus.UpgradeRequired)
        {
            writer.WriteHeader("Upgrade"u8, "websocket"u8);
            writer.WriteHeader("Sec-WebSocket-Version"u8, "13"u8);
        }
        else if (statusCode == HttpStatus.MethodNotAllowed)
        {
            writer.WriteHeader("Allow"u8, "GET"u8);
        }

        writer.WriteHeader("Content-Type"u8, "text/plain; charset=us-ascii"u8);
        writer.Write("Content-Length: "u8);
        writer.WriteInt32(bodyLength);
        writer.Write("\r\n\r\n"u8);

        writer.WriteInt32(statusCode);
        writer.Write(" "u8);
        writer.WriteLatin1(reason);
        if (!string.IsNullOrEmpty(detail))
        {
            writer.Write(": "u8);
            writer.WritePrintableAscii(detail);
        }

        writer.Write("\n"u8);
    }

    private static string? FindOffered(IReadOnlyList<string> offered, string chosen)
    {
        for (int i = 0; i < offered.Count; i++)
        {
            if (string.Equals(offered[i], chosen, StringComparison.Ordinal))
            {
                return offered[i];
            }
        }

        return null;
    }
}
