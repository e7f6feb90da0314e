using WsGen.Protocol;

namespace WsGen;

/// <summary>Builds <see cref="WebSocketFrame"/> instances to send with <see cref="IWebSocketConn.WriteFrame"/>.</summary>
internal static class WebSocketFrames
{
    /// <summary>
    /// A frame with <paramref name="opcode"/>, the FIN bit <paramref name="fin"/> and <paramref name="payload"/>, whose
    /// <see cref="WebSocketFrame.Header"/> is the unmasked header as a server sends it (a client connection writes its
    /// own masked header). When <paramref name="pool"/> is set, <paramref name="pooledBuffer"/> (the pool buffer the
    /// payload lies in) goes back to it on <see cref="WebSocketFrame.Release"/>. Allocates the frame and its header.
    /// </summary>
    /// <exception cref="ArgumentException">A control frame is not final or longer than 125 bytes, or the opcode is not defined.</exception>
    public static WebSocketFrame Create(WebSocketOpcode opcode, Memory<byte> payload, bool fin = true, IBytePool? pool = null, Memory<byte> pooledBuffer = default)
    {
        if (!Enum.IsDefined(opcode))
            throw new ArgumentException("The opcode is not one RFC 6455 defines.", nameof(opcode));
        if (((byte)opcode & 0x8) != 0 && (!fin || payload.Length > FrameHeader.MaxShortLength))
            throw new ArgumentException("A control frame must be final and carry at most 125 bytes.", nameof(payload));

        byte[] header = new byte[FrameWriter.HeaderSize(payload.Length, masked: false)];
        FrameWriter.WriteHeader(header, opcode, fin, payload.Length);
        return new WebSocketFrame(header, payload, pool, pooledBuffer);
    }
}
