namespace WsGen.Protocol;

/// <summary>
/// Receives what <see cref="WebSocketReader"/> reads, synchronously, in stream order. Implemented by a struct (the
/// generated handler) or a class in the server or client. Payload spans are valid only during the call: they lie in
/// the caller's receive buffer or in a buffer the reader gives back right after.
/// </summary>
internal interface IFrameSink
{
    /// <summary>A complete Text or Binary message: unmasked, its fragments joined, UTF-8-validated if Text.</summary>
    void OnMessage(WebSocketOpcode opcode, Span<byte> payload);

    /// <summary>A complete Text or Binary message whose first frame carried RSV1, which the connection's
    /// <see cref="IMessageTransform"/> owns (see <see cref="WebSocketReader.AllowRsv1"/>): unmasked and joined, not
    /// UTF-8-validated (that follows the decoding).</summary>
    void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload);

    /// <summary>A ping (at most 125 bytes), possibly between two fragments of a message.</summary>
    void OnPing(Span<byte> payload);

    /// <summary>A pong (at most 125 bytes), possibly between two fragments of a message.</summary>
    void OnPong(Span<byte> payload);

    /// <summary>A valid close frame: its code (1005 when it had no body) and UTF-8 reason. The reader delivers nothing after it.</summary>
    void OnClose(ushort code, ReadOnlySpan<byte> reason);
}
