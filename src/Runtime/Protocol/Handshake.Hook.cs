namespace WsGen.Protocol;

/// <summary>The responses an endpoint's upgrade hook shapes: headers added to the 101, and its own refusals.</summary>
internal static partial class Handshake
{
    /// <summary>
    /// Writes the 101 response of <paramref name="decision"/> with <paramref name="headers"/> added after WsGen's own.
    /// </summary>
    /// <param name="dest">Receives the response; <see cref="GetAcceptLength(in HandshakeDecision, ReadOnlySpan{byte}, IReadOnlyList{KeyValuePair{string, string}})"/> bytes are needed.</param>
    /// <param name="decision">An accepting decision (its subprotocol is the one written).</param>
    /// <param name="extensions">The Sec-WebSocket-Extensions value agreed (empty for none).</param>
    /// <param name="headers">Names that are tokens and values that are field values (checked by the caller).</param>
    /// <returns>The number of bytes written.</returns>
    public static int WriteAccept(Span<byte> dest, in HandshakeDecision decision, ReadOnlySpan<byte> extensions, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        // The plain response ends with the blank line; the added headers go before it.
        int n = WriteAccept(dest, in decision, extensions) - 2;
        var writer = new HttpHeadWriter(dest[n..]);
        WriteHeaders(ref writer, headers);
        writer.Write("\r\n"u8);
        return n + writer.Length;
    }

    /// <summary>The length of the response <see cref="WriteAccept(Span{byte}, in HandshakeDecision, ReadOnlySpan{byte}, IReadOnlyList{KeyValuePair{string, string}})"/> writes.</summary>
    public static int GetAcceptLength(in HandshakeDecision decision, ReadOnlySpan<byte> extensions, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var writer = HttpHeadWriter.Measure();
        WriteHeaders(ref writer, headers);
        return GetAcceptLength(decision.SubProtocol, extensions) + writer.Length;
    }

    /// <summary>
    /// Writes a hook's refusal: the status line (the reason phrase WsGen knows for the status, else none),
    /// <c>Connection: close</c>, <paramref name="headers"/>, and <paramref name="body"/> as text/plain (printable ASCII,
    /// other chars sent as '?'). The caller closes the connection after sending it.
    /// </summary>
    public static int WriteHookRefusal(Span<byte> dest, int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, string? body)
    {
        var writer = new HttpHeadWriter(dest);
        WriteHookRefusalCore(ref writer, statusCode, headers, body);
        return writer.Length;
    }

    /// <summary>The length of the refusal <see cref="WriteHookRefusal"/> writes.</summary>
    public static int GetHookRefusalLength(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, string? body)
    {
        var writer = HttpHeadWriter.Measure();
        WriteHookRefusalCore(ref writer, statusCode, headers, body);
        return writer.Length;
    }

    private static void WriteHookRefusalCore(ref HttpHeadWriter writer, int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, string? body)
    {
        if (statusCode is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "A refusal's status is 400-599.");
        }

        writer.Write("HTTP/1.1 "u8);
        writer.WriteInt32(statusCode);
        writer.Write(" "u8);
        if (HttpStatus.GetReasonPhrase(statusCode) is { } reason)
        {
            writer.WriteLatin1(reason);
        }

        writer.Write("\r\n"u8);
        writer.WriteHeader("Connection"u8, "close"u8);
        WriteHeaders(ref writer, headers);
        writer.WriteHeader("Content-Type"u8, "text/plain; charset=us-ascii"u8);
        writer.Write("Content-Length: "u8);
        writer.WriteInt32(body?.Length ?? 0);
        writer.Write("\r\n\r\n"u8);
        if (body is not null)
        {
            writer.WritePrintableAscii(body);
        }
    }

    private static void WriteHeaders(ref HttpHeadWriter writer, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        for (int i = 0; i < headers.Count; i++)
        {
            writer.WriteLatin1(headers[i].Key);
            writer.Write(": "u8);
            writer.WriteLatin1(headers[i].Value);
            writer.Write("\r\n"u8);
        }
    }
}
