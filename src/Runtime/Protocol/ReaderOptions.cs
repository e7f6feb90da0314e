namespace WsGen.Protocol;

/// <summary>Limits and buffers of a <see cref="WebSocketReader"/>; one instance is shared by many connections.</summary>
internal sealed class ReaderOptions
{
    /// <summary>The default <see cref="MaxMessageSize"/>: 16 MiB.</summary>
    public const long DefaultMaxMessageSize = 16 * 1024 * 1024;

    /// <summary>The largest <see cref="MaxMessageSize"/>: what one array holds, with room for a control frame.</summary>
    public const long MaxMessageSizeLimit = 0x7FFF_FF00 - FrameHeader.MaxShortLength;

    private readonly long _maxMessageSize = DefaultMaxMessageSize;

    /// <summary>
    /// The largest message (all fragments together) in bytes. A frame that announces more fails with 1009 as soon as
    /// its header is read; a fragmented message fails with 1009 at the header of the fragment that would pass it.
    /// </summary>
    public long MaxMessageSize
    {
        get => _maxMessageSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxMessageSizeLimit);
            _maxMessageSize = value;
        }
    }

    /// <summary>
    /// True on a server: every client frame must be masked. False on a client: server frames must not be.
    /// A frame with the wrong MASK bit fails with 1002 (RFC 6455 section 5.1).
    /// </summary>
    public bool ExpectMasked { get; init; } = true;

    /// <summary>
    /// Small buffers for frames split across reads and for fragmented messages that fit its
    /// <see cref="IBytePool.BufferSize"/>; larger ones are rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>.
    /// </summary>
    public IBytePool? Pool { get; init; }
}
