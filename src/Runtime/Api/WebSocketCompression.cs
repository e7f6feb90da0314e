namespace WsGen;

/// <summary>permessage-deflate (RFC 7692) on an endpoint's connections, or offered by a client.</summary>
public enum WebSocketCompression : byte
{
    /// <summary>The extension is declined (servers) or not offered (clients).</summary>
    Off,

    /// <summary>No context takeover in either direction: every message is compressed on its own, by one deflater and
    /// one inflater per loop that all its connections share, so an idle connection holds nothing for compression.
    /// Compresses less than <see cref="Dedicated"/> when messages repeat each other. A published message (see
    /// <see cref="WebSocketServer.Publish"/>) is compressed once per loop for all such subscribers.</summary>
    Shared,

    /// <summary>Context takeover: each connection keeps its own deflater and inflater (made on its first compressed
    /// message), so a message can refer to the ones before it. Costs, per connection that used it, 2^(w+3) bytes for
    /// the deflater and 2^w + about 7 KiB for the inflater (native memory, from zlib), w being
    /// <see cref="WebSocketEndpointOptions.CompressionWindowBits"/>: 32 KiB + 11 KiB at 12 (the default), 256 KiB +
    /// 39 KiB at 15, 8 KiB + 8 KiB at 10.
    /// A published message (see <see cref="WebSocketServer.Publish"/>) goes to such a subscriber uncompressed (RSV1
    /// clear, as RFC 7692 allows): compressed outside the connection's deflater, it would put the peer's window out
    /// of step with ours, and compressing it with each subscriber's own would cost a compression per subscriber.</summary>
    Dedicated,
}
