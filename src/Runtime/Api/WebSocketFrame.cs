namespace WsGen;

/// <summary>
/// One WebSocket frame (or a whole message delivered as one frame). The payload is borrowed from
/// <see cref="PoolRef"/> until <see cref="Release"/>; after that it must not be touched.
/// </summary>
/// <remarks>
/// <see cref="Release"/> gives the buffer back exactly once. A second call throws
/// <see cref="InvalidOperationException"/> and leaves the pool intact. Frame objects are never recycled
/// behind the user's back, so a stale reference cannot release somebody else's buffer.
/// </remarks>
public sealed class WebSocketFrame
{
    private Memory<byte> _buffer;
    private bool _released;

    /// <summary>A frame over <paramref name="header"/> and <paramref name="payload"/>. When
    /// <paramref name="poolRef"/> is set, <paramref name="pooledBuffer"/> (the whole buffer both lie in)
    /// goes back to it on <see cref="Release"/>.</summary>
    public WebSocketFrame(Memory<byte> header, Memory<byte> payload, IBytePool? poolRef = null, Memory<byte> pooledBuffer = default)
    {
        Header = header;
        Payload = payload;
        PoolRef = poolRef;
        _buffer = pooledBuffer;
    }

    /// <summary>The frame header as on the wire (2 to 14 bytes).</summary>
    public Memory<byte> Header { get; private set; }

    /// <summary>The unmasked payload, zero-copy from the pool.</summary>
    public Memory<byte> Payload { get; private set; }

    /// <summary>The pool that owns the payload's buffer, or null when the payload is not pooled.</summary>
    public IBytePool? PoolRef { get; private set; }

    public WebSocketOpcode Opcode => (WebSocketOpcode)(Header.Span[0] & 0x0F);

    public bool IsFinal => (Header.Span[0] & 0x80) != 0;

    public bool IsReleased => _released;

    /// <summary>Returns the payload's buffer to its pool. Throws when called twice.</summary>
    public void Release()
    {
        if (_released)
            throw new InvalidOperationException("This WebSocketFrame was already released; its payload belongs to the pool again.");
        _released = true;
        var pool = PoolRef;
        var buffer = _buffer;
        _buffer = default;
        Payload = default;
        PoolRef = null;
        if (pool is not null && !buffer.IsEmpty)
            pool.Put(buffer);
    }
}
