namespace WsGen.Protocol;

/// <summary>
/// A transform of whole data messages, negotiated as a WebSocket extension that owns the RSV1 bit (RFC 7692
/// permessage-deflate is the one in use): the protocol's seam for it. A received message whose first frame carries
/// RSV1 is decoded before UTF-8 validation and delivery; an outgoing whole message may be encoded and sent with RSV1.
/// A connection without one pays a null test per outgoing message and nothing on input (RSV1 frames take the reader's
/// general path, and are a protocol error without a transform).
/// </summary>
/// <remarks>Every call runs on the connection's loop thread. The transform owns its buffers: what it returns is valid
/// until its next call.</remarks>
internal interface IMessageTransform
{
    /// <summary>Decodes a received message (unmasked, its fragments joined). False when it cannot: the connection is
    /// failed with <paramref name="failure"/> (1007 for bytes that do not decode, 1009 for a result over
    /// <paramref name="maxMessageSize"/>).</summary>
    bool TryDecode(Span<byte> message, long maxMessageSize, out Span<byte> decoded, out WebSocketCloseCode failure);

    /// <summary>Encodes an outgoing whole message; false to send it as it is, with RSV1 clear (a message too small to
    /// gain, say).</summary>
    bool TryEncode(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> encoded);

    /// <summary>For a message published to many connections: a key that every transform encoding each message alone,
    /// the same way, shares (so that a loop encodes a published message once per key and writes that frame to each
    /// of them); 0 when the encoding depends on the messages before it (a context kept across messages), and a
    /// published message then goes to this connection as it is, RSV1 clear.</summary>
    long PublishKey { get; }

    /// <summary>The connection ended: releases the transform's buffers.</summary>
    void Dispose();
}
