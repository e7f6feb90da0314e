using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WsGen.Protocol;

/// <summary>
/// Reads the frames of one connection from the bytes as they arrive, in any chunking, and hands messages and control
/// frames to an <see cref="IFrameSink"/>. Any split of the same byte stream into <see cref="Read"/> calls gives the
/// same sequence of sink calls and the same error.
/// </summary>
/// <remarks>
/// <para>Zero-copy: a control frame, or a whole unfragmented Text/Binary frame, that lies wholly in the data of one
/// <see cref="Read"/> is unmasked in place and delivered as a slice of that data. Only what is split across reads is
/// copied: header bytes into a 14-byte inline field, payload bytes into a buffer taken from
/// <see cref="ReaderOptions.Pool"/> when the frame fits its buffer size, otherwise rented from
/// <see cref="ArrayPool{T}.Shared"/>. A fragmented message is joined in such a buffer. Buffers go back as soon as
/// their message or control frame is delivered, so an idle reader owns none.</para>
/// <para>Growth policy: a rented buffer is not sized to what a header announces but to the bytes that actually
/// arrived (at least 64 KiB, doubling, never beyond the announced frame), so a peer that announces a large frame and
/// then stalls pins at most 64 KiB. A text message is validated as its bytes are unmasked, so invalid UTF-8 fails
/// before the rest of its frame arrives.</para>
/// <para>The struct is meant to live in a field of the per-connection object (about 72 bytes) and be called through
/// it; copying it copies its state, including the ownership of its buffer. After an error, <see cref="Read"/>
/// returns the same error and ignores its input; after a close frame, it ignores its input. If the sink throws, the
/// reader is left mid-frame: the connection must be failed and the reader disposed. The sink must not call back
/// into the same reader.</para>
/// </remarks>
internal struct WebSocketReader
{
    /// <summary>The smallest buffer rented from <see cref="ArrayPool{T}.Shared"/> for a frame that needs more.</summary>
    internal const int MinimumRentSize = 64 * 1024;

    private Memory<byte> _buffer;           // message being joined, then a split control frame's payload
    private IBytePool? _bufferPool;         // owner of _buffer; null for ArrayPool<byte>.Shared
    private long _frameRemaining;           // payload bytes of the current frame still to come
    private uint _maskKey;
    private int _messageLength;             // bytes of the open message in _buffer
    private Utf8Validator _utf8;            // state of the open text message
    private HeaderBytes _header;            // a header split across reads
    private byte _headerCount;
    private byte _controlCount;             // bytes of a split control frame, after the message in _buffer
    private byte _maskOffset;               // payload bytes of the current frame so far, mod 4
    private WebSocketOpcode _frameOpcode;   // opcode of the frame whose payload is arriving
    private WebSocketOpcode _messageOpcode; // Text or Binary while a message is open; 0 otherwise
    private ReadError _error;
    private Flags _flags;

    [Flags]
    private enum Flags : byte
    {
        None = 0,
        InPayload = 1,    // a header was read; its payload is arriving
        FrameFin = 2,
        FrameMasked = 4,
        CloseReceived = 8,
        Rsv1Allowed = 16,  // a message transform owns RSV1 (AllowRsv1)
        MessageRsv1 = 32,  // the open message's first frame carried RSV1
    }

    [InlineArray(FrameHeader.MaxLength)]
    private struct HeaderBytes
    {
        private byte _element;
    }

    /// <summary>From now on a data message's first frame may carry RSV1: the connection has a
    /// <see cref="IMessageTransform"/>, and such messages go to <see cref="IFrameSink.OnTransformedMessage"/>. RSV1 on
    /// a control or continuation frame, and RSV2 or RSV3 anywhere, stay protocol errors.</summary>
    public void AllowRsv1() => _flags |= Flags.Rsv1Allowed;

    /// <summary>True while the reader owns a pooled or rented buffer (a split frame or an open fragmented message).</summary>
    public readonly bool HoldsBuffer => !_buffer.IsEmpty;

    /// <summary>True once a valid close frame was delivered.</summary>
    public readonly bool IsCloseReceived => (_flags & Flags.CloseReceived) != 0;

    /// <summary>True once <see cref="Read"/> returned an error.</summary>
    public readonly bool IsFailed => _error != ReadError.None;

    /// <summary>
    /// Reads <paramref name="data"/>, the next bytes of the stream, to its end: unmasks in place, delivers every
    /// message and control frame completed by these bytes, and keeps what is incomplete. Returns an error when the
    /// connection must be failed (nothing is delivered after it).
    /// </summary>
    public ReadResult Read<TSink>(Span<byte> data, ReaderOptions options, ref TSink sink)
        where TSink : IFrameSink, allows ref struct
    {
        if (_error != ReadError.None)
            return new ReadResult(_error);

        int position = 0;
        while (position < data.Length && (_flags & Flags.CloseReceived) == 0)
        {
            if ((_flags & Flags.InPayload) == 0 && _headerCount == 0 && _messageOpcode == 0
                && TryReadSimpleFrame(data, ref position, options, ref sink, out bool invalidText))
            {
                if (invalidText)
                    return Fail(ReadError.InvalidUtf8Text);
                continue;
            }

            ReadError error = (_flags & Flags.InPayload) == 0
                ? ReadFrameStart(data, ref position, options, ref sink)
                : ReadPayload(data, ref position, options, ref sink);
            if (error != ReadError.None)
                return Fail(error);
        }

        return default;
    }

    /// <summary>Gives back any buffer and returns to the initial state (the reader can serve a new connection).</summary>
    public void Dispose()
    {
        ReleaseBuffer();
        this = default;
    }

    /// <summary>
    /// The usual frame, read without the general machinery: a final, masked Text or Binary frame with a 7-bit or
    /// 16-bit length, all of it in <paramref name="data"/> at <paramref name="position"/>, within the size limit, on a
    /// server's reader with no message open. Delivers it as <see cref="ReadFrameStart"/> would (unmasked in place,
    /// text validated) and returns true, with <paramref name="invalidText"/> set instead of delivering when the text
    /// is not UTF-8. Returns false, having read nothing, for anything else, which the general path then reads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadSimpleFrame<TSink>(Span<byte> data, ref int position, ReaderOptions options, ref TSink sink, out bool invalidText)
        where TSink : IFrameSink, allows ref struct
    {
        invalidText = false;
        const int ShortHeader = 2 + 4;
        int available = data.Length - position;
        if (available < ShortHeader || !options.ExpectMasked)
            return false;

        ReadOnlySpan<byte> bytes = data.Slice(position);
        byte first = bytes[0];
        byte second = bytes[1];
        // FIN set, RSV clear, Text or Binary; MASK set.
        if ((first != 0x81 && first != 0x82) || second < 0x80)
            return false;

        int length = second & 0x7F;
        int headerLength = ShortHeader;
        if (length == 126)
        {
            if (available < ShortHeader + 2)
                return false;
            length = BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(2));
            if (length <= FrameHeader.MaxShortLength)
                return false;
            headerLength = ShortHeader + 2;
        }
        else if (length == 127)
        {
            return false;
        }

        if (length > available - headerLength || length > options.MaxMessageSize)
            return false;

        uint maskKey = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(headerLength - 4));
        Span<byte> payload = data.Slice(position + headerLength, length);
        position += headerLength + length;
        Masking.Unmask(payload, maskKey, 0);
        if (first == 0x81 && !Utf8Validator.IsValid(payload))
        {
            invalidText = true;
            return true;
        }

        sink.OnMessage((WebSocketOpcode)(first & 0x0F), payload);
        return true;
    }

    /// <summary>
    /// Reads a header at <paramref name="position"/> (completing one split across reads) and either delivers the
    /// whole frame from <paramref name="data"/> or prepares to collect its payload.
    /// </summary>
    private ReadError ReadFrameStart<TSink>(Span<byte> data, ref int position, ReaderOptions options, ref TSink sink)
        where TSink : IFrameSink, allows ref struct
    {
        FrameHeader header;
        HeaderParseStatus status;
        if (_headerCount == 0)
        {
            status = FrameHeader.TryParse(data.Slice(position), out header);
            if (status == HeaderParseStatus.NeedMore)
            {
                // Fewer than 14 bytes are left, or the header would have parsed.
                data.Slice(position).CopyTo(_header);
                _headerCount = (byte)(data.Length - position);
                position = data.Length;
                return ReadError.None;
            }

            if (status == HeaderParseStatus.Ok)
                position += header.HeaderLength;
        }
        else
        {
            Span<byte> saved = _header;
            int take = Math.Min(FrameHeader.MaxLength - _headerCount, data.Length - position);
            data.Slice(position, take).CopyTo(saved.Slice(_headerCount));
            status = FrameHeader.TryParse(saved.Slice(0, _headerCount + take), out header);
            if (status == HeaderParseStatus.NeedMore)
            {
                // Only possible when take was all that is left: 14 bytes always hold a header.
                _headerCount += (byte)take;
                position = data.Length;
                return ReadError.None;
            }

            if (status == HeaderParseStatus.Ok)
            {
                position += header.HeaderLength - _headerCount;
                _headerCount = 0;
            }
        }

        if (status != HeaderParseStatus.Ok)
            return status == HeaderParseStatus.InvalidLength ? ReadError.InvalidLength : ReadError.NonMinimalLength;

        ReadError error = Validate(in header, options);
        if (error != ReadError.None)
            return error;

        WebSocketOpcode opcode = header.Opcode;
        bool whole = header.PayloadLength <= data.Length - position;
        if (whole && (header.IsControl || (header.Fin && opcode != WebSocketOpcode.Continuation)))
        {
            // Zero-copy: unmask in the caller's buffer and deliver a slice of it.
            Span<byte> payload = data.Slice(position, (int)header.PayloadLength);
            position += payload.Length;
            if (header.Masked)
                Masking.Unmask(payload, header.MaskKey, 0);
            if (header.IsControl)
                return DeliverControl(opcode, payload, ref sink);
            if (header.Rsv != 0)
            {
                sink.OnTransformedMessage(opcode, payload);
                return ReadError.None;
            }

            if (opcode == WebSocketOpcode.Text && !Utf8Validator.IsValid(payload))
                return ReadError.InvalidUtf8Text;
            sink.OnMessage(opcode, payload);
            return ReadError.None;
        }

        // The payload is collected in a buffer: a data frame joins the open message (or opens one),
        // a control frame goes after it.
        if (opcode is WebSocketOpcode.Text or WebSocketOpcode.Binary)
        {
            _messageOpcode = opcode;
            _messageLength = 0;
            _utf8.Reset();
            _flags = header.Rsv != 0 ? _flags | Flags.MessageRsv1 : _flags & ~Flags.MessageRsv1;
        }

        _frameOpcode = opcode;
        _frameRemaining = header.PayloadLength;
        _maskKey = header.MaskKey;
        _maskOffset = 0;
        _flags |= Flags.InPayload
            | (header.Fin ? Flags.FrameFin : Flags.None)
            | (header.Masked ? Flags.FrameMasked : Flags.None);
        return header.PayloadLength == 0 ? CompleteFrame(ref sink) : ReadError.None;
    }

    /// <summary>Checks a header against the connection's state and limits (RFC 6455 sections 5.2 to 5.5).</summary>
    private readonly ReadError Validate(in FrameHeader header, ReaderOptions options)
    {
        // RSV1 is the message transform's, on the first frame of a data message (RFC 7692 section 6); anything else is not.
        if (header.Rsv != 0
            && (header.Rsv != 4 || (_flags & Flags.Rsv1Allowed) == 0 || header.Opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary)))
            return ReadError.ReservedBitsSet;
        if (header.Masked != options.ExpectMasked)
            return header.Masked ? ReadError.MaskedFrame : ReadError.UnmaskedFrame;

        switch (header.Opcode)
        {
            case WebSocketOpcode.Continuation:
                if (_messageOpcode == 0)
                    return ReadError.UnexpectedContinuation;
                return header.PayloadLength > options.MaxMessageSize - _messageLength ? ReadError.MessageTooBig : ReadError.None;

            case WebSocketOpcode.Text:
            case WebSocketOpcode.Binary:
                if (_messageOpcode != 0)
                    return ReadError.ExpectedContinuation;
                return header.PayloadLength > options.MaxMessageSize ? ReadError.MessageTooBig : ReadError.None;

            case WebSocketOpcode.Close:
            case WebSocketOpcode.Ping:
            case WebSocketOpcode.Pong:
                if (!header.Fin)
                    return ReadError.ControlFrameFragmented;
                return header.PayloadLength > FrameHeader.MaxShortLength ? ReadError.ControlFrameTooLong : ReadError.None;

            default:
                return ReadError.UnknownOpcode;
        }
    }

    /// <summary>Copies the next payload bytes of the current frame into the buffer, unmasks and validates them.</summary>
    private ReadError ReadPayload<TSink>(Span<byte> data, ref int position, ReaderOptions options, ref TSink sink)
        where TSink : IFrameSink, allows ref struct
    {
        int count = (int)Math.Min(_frameRemaining, data.Length - position);
        bool control = ((byte)_frameOpcode & 0x8) != 0;
        int used = _messageLength + _controlCount;
        EnsureCapacity(used + count, used + _frameRemaining, options);

        Span<byte> target = _buffer.Span.Slice(used, count);
        data.Slice(position, count).CopyTo(target);
        position += count;
        if ((_flags & Flags.FrameMasked) != 0)
        {
            Masking.Unmask(target, _maskKey, _maskOffset);
            _maskOffset = (byte)((_maskOffset + count) & 3);
        }

        _frameRemaining -= count;
        if (control)
        {
            _controlCount += (byte)count;
        }
        else
        {
            _messageLength += count;
            if (_messageOpcode == WebSocketOpcode.Text && (_flags & Flags.MessageRsv1) == 0 && !_utf8.Append(target))
                return ReadError.InvalidUtf8Text;
        }

        return _frameRemaining == 0 ? CompleteFrame(ref sink) : ReadError.None;
    }

    /// <summary>The current frame's payload is all in the buffer: deliver the control frame or the finished message.</summary>
    private ReadError CompleteFrame<TSink>(ref TSink sink)
        where TSink : IFrameSink, allows ref struct
    {
        bool fin = (_flags & Flags.FrameFin) != 0;
        _flags &= ~(Flags.InPayload | Flags.FrameFin | Flags.FrameMasked);

        if (((byte)_frameOpcode & 0x8) != 0)
        {
            Span<byte> payload = _buffer.IsEmpty ? default : _buffer.Span.Slice(_messageLength, _controlCount);
            _controlCount = 0;
            ReadError error = DeliverControl(_frameOpcode, payload, ref sink);
            if (_messageOpcode == 0)
                ReleaseBuffer();
            return error;
        }

        if (!fin)
            return ReadError.None;

        WebSocketOpcode opcode = _messageOpcode;
        bool transformed = (_flags & Flags.MessageRsv1) != 0;
        if (opcode == WebSocketOpcode.Text && !transformed && !_utf8.Complete())
            return ReadError.InvalidUtf8Text;

        Span<byte> message = _buffer.IsEmpty ? default : _buffer.Span.Slice(0, _messageLength);
        _messageOpcode = 0;
        _messageLength = 0;
        _flags &= ~Flags.MessageRsv1;
        if (transformed)
            sink.OnTransformedMessage(opcode, message);
        else
            sink.OnMessage(opcode, message);
        ReleaseBuffer();
        return ReadError.None;
    }

    private ReadError DeliverControl<TSink>(WebSocketOpcode opcode, Span<byte> payload, ref TSink sink)
        where TSink : IFrameSink, allows ref struct
    {
        switch (opcode)
        {
            case WebSocketOpcode.Ping:
                sink.OnPing(payload);
                return ReadError.None;

            case WebSocketOpcode.Pong:
                sink.OnPong(payload);
                return ReadError.None;

            default:
                CloseParseResult result = CloseCodes.ParseClosePayload(payload, out ushort code, out ReadOnlySpan<byte> reason);
                if (result == CloseParseResult.InvalidPayloadData)
                    return ReadError.InvalidUtf8CloseReason;
                if (result != CloseParseResult.Ok)
                    return payload.Length == 1 ? ReadError.InvalidCloseLength : ReadError.InvalidCloseCode;

                // Nothing is delivered after a close: an open message is dropped with its buffer.
                _flags |= Flags.CloseReceived;
                _messageOpcode = 0;
                _messageLength = 0;
                sink.OnClose(code, reason);
                ReleaseBuffer();
                return ReadError.None;
        }
    }

    /// <summary>
    /// Makes the buffer hold at least <paramref name="required"/> bytes, keeping what it holds. <paramref name="target"/>
    /// is the size the buffer needs by the end of the current frame.
    /// </summary>
    private void EnsureCapacity(int required, long target, ReaderOptions options)
    {
        if (required <= _buffer.Length)
            return;

        Memory<byte> fresh;
        IBytePool? owner = options.Pool;
        if (owner is not null && target <= owner.BufferSize)
        {
            fresh = owner.Get();
        }
        else
        {
            owner = null;
            long size = Math.Max(required, Math.Max(2L * _buffer.Length, MinimumRentSize));
            fresh = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, target));
        }

        _buffer.Span.Slice(0, _messageLength + _controlCount).CopyTo(fresh.Span);
        ReleaseBuffer();
        _buffer = fresh;
        _bufferPool = owner;
    }

    private void ReleaseBuffer()
    {
        Memory<byte> buffer = _buffer;
        if (buffer.IsEmpty)
            return;

        IBytePool? pool = _bufferPool;
        _buffer = default;
        _bufferPool = null;
        if (pool is not null)
            pool.Put(buffer);
        else if (MemoryMarshal.TryGetArray(buffer, out ArraySegment<byte> segment))
            ArrayPool<byte>.Shared.Return(segment.Array!);
    }

    private ReadResult Fail(ReadError error)
    {
        _error = error;
        ReleaseBuffer();
        return new ReadResult(error);
    }
}
