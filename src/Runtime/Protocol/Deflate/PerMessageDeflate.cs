namespace WsGen.Protocol;

/// <summary>
/// permessage-deflate (RFC 7692) as a connection's <see cref="IMessageTransform"/>: a deflater for what this side
/// sends and an inflater for what it receives, each reset after every message when the negotiation took away its
/// context (<c>*_no_context_takeover</c>). Messages shorter than the threshold go uncompressed, and so does a message
/// that compression would not shorten when the deflater starts every message afresh (with context takeover the peer's
/// window must follow ours, so what was compressed is sent). In shared mode one instance serves every connection of a
/// loop (<see cref="DeflateContext"/>); in dedicated mode each connection has its own.
/// </summary>
internal sealed class PerMessageDeflate : IMessageTransform
{
    private readonly Deflater _deflater;
    private readonly Inflater _inflater;
    private readonly DeflateBuffer _deflated;
    private readonly DeflateBuffer _inflated;
    private readonly bool _resetDeflater;
    private readonly bool _resetInflater;
    private readonly int _threshold;
    private readonly bool _owned;

    /// <summary>A transform over <paramref name="deflater"/> and <paramref name="inflater"/>, writing into
    /// <paramref name="deflated"/> and <paramref name="inflated"/>, resetting each after every message as asked, leaving
    /// messages below <paramref name="threshold"/> bytes uncompressed; <paramref name="owned"/> when the deflater and
    /// inflater are this connection's (<see cref="Dispose"/> frees them).</summary>
    public PerMessageDeflate(Deflater deflater, Inflater inflater, DeflateBuffer deflated, DeflateBuffer inflated,
        bool resetDeflater, bool resetInflater, int threshold, bool owned)
    {
        _deflater = deflater;
        _inflater = inflater;
        _deflated = deflated;
        _inflated = inflated;
        _resetDeflater = resetDeflater;
        _resetInflater = resetInflater;
        _threshold = Math.Max(1, threshold);
        _owned = owned;
    }

    /// <summary>The memory level zlib is given for a deflater of <paramref name="windowBits"/>: as much for the hash
    /// table as for the window (8 at 15, zlib's default).</summary>
    public static int MemLevel(int windowBits) => Math.Max(1, windowBits - 7);

    /// <summary>The memory level of shared mode's deflaters: 7, a hash table of 16K entries (32 KiB) that
    /// deflateReset clears after every message, half of what level 8 clears. Every message there is compressed alone,
    /// and on the bench's JSON-like messages of 1 KiB and 16 KiB the output is the same size as at 8 (within 0.1 B per
    /// message), for about 8% less deflate time at 1 KiB and the same at 16 KiB (bench/results/deflate-params.md).</summary>
    public const int SharedMemLevel = 7;

    public bool TryDecode(Span<byte> message, long maxMessageSize, out Span<byte> decoded, out WebSocketCloseCode failure)
    {
        failure = _inflater.Inflate(message, maxMessageSize, _inflated, _resetInflater, out decoded);
        return failure == 0;
    }

    public bool TryEncode(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> encoded)
    {
        encoded = default;
        if (message.Length < _threshold)
            return false;
        encoded = _deflater.Compress(message, _deflated, _resetDeflater);
        return !_resetDeflater || encoded.Length < message.Length;
    }

    /// <summary>Without context takeover on our side, the window and the threshold (a message compressed alone with
    /// a window no larger than the peer agreed is what any such peer decodes); with it, 0: a block compressed outside
    /// this connection's deflater would leave the peer's window out of step with ours, so published messages go
    /// uncompressed, which RFC 7692 allows message by message.</summary>
    public long PublishKey => _resetDeflater ? (long)_deflater.WindowBits << 32 | (uint)_threshold : 0;

    public void Dispose()
    {
        if (!_owned)
            return;
        _deflater.Dispose();
        _inflater.Dispose();
    }
}
