using System.IO.Compression;

namespace WsGen.Protocol;

/// <summary>The DeflateStream engine's deflater: a <see cref="DeflateStream"/> at <see cref="Deflater.Level"/> (window
/// 15, zlib's default memory level: it cannot be told otherwise) writing into the message's output buffer; a reset
/// disposes it and the next message makes a new one (see <see cref="DeflateEngine"/> for the cost).</summary>
internal sealed class StreamDeflateEngine : IDeflateEngine
{
    private static readonly ZLibCompressionOptions Options = new() { CompressionLevel = Deflater.Level };
    private readonly Sink _sink = new();
    private DeflateStream? _stream;

    public int Compress(ReadOnlySpan<byte> message, DeflateBuffer output)
    {
        _sink.Start(output, message.Length);
        _stream ??= new DeflateStream(_sink, Options, leaveOpen: true);
        _stream.Write(message);
        // DeflateStream's Flush is zlib's sync flush: the output ends with an empty stored block (00 00 FF FF).
        _stream.Flush();
        return _sink.Finish();
    }

    public void Reset()
    {
        // Disposing finishes the stream (a final block): the sink is not started, so those bytes go nowhere.
        _stream?.Dispose();
        _stream = null;
    }

    public void Dispose() => Reset();

    /// <summary>A write-only stream into a <see cref="DeflateBuffer"/>, between <see cref="Start"/> and
    /// <see cref="Finish"/>; what is written outside them is dropped.</summary>
    private sealed class Sink : Stream
    {
        private DeflateBuffer? _output;
        private int _length;

        public void Start(DeflateBuffer output, int messageLength)
        {
            // Compressed text is rarely over half its size; the buffer grows when it is.
            output.Start(messageLength / 2 + 64);
            _output = output;
            _length = 0;
        }

        public int Finish()
        {
            _output = null;
            return _length;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_output is null)
                return;
            byte[] array = _output.Array;
            if (_length + buffer.Length > array.Length)
                array = _output.Grow(_length, Math.Max(array.Length * 2, _length + buffer.Length));
            buffer.CopyTo(array.AsSpan(_length));
            _length += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>The DeflateStream engine's inflater: a <see cref="DeflateStream"/> reading the message in place through a
/// stream over the caller's pinned input (DeflateStream copies it into a buffer of its own). It reads any window; a
/// reset disposes it and the next message makes a new one.</summary>
internal sealed unsafe class StreamInflateEngine : IInflateEngine
{
    private readonly Feed _feed = new();
    private DeflateStream? _stream;

    public void SetInput(byte* input, int length) => _feed.Set(input, length);

    public bool HasInput => _feed.Left > 0;

    public bool SeesEndExactly => false;

    public InflateStep Inflate(Span<byte> output, out int produced)
    {
        _stream ??= new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);
        produced = 0;
        try
        {
            while (produced < output.Length)
            {
                int n = _stream.Read(output[produced..]);
                if (n == 0)
                {
                    // Nothing more: the input is used up, or the stream ended and DeflateStream stopped reading it
                    // (input left over). A stream that ended just as the input ran out shows when the tail is left unread.
                    return _feed.Left > 0 ? InflateStep.End : InflateStep.Ok;
                }
                produced += n;
            }
            return InflateStep.Ok;
        }
        catch (InvalidDataException)
        {
            return InflateStep.Error;
        }
    }

    public void Reset()
    {
        _stream?.Dispose();
        _stream = null;
    }

    public void Dispose() => Reset();

    /// <summary>A read-only stream over native input (pinned by <see cref="Inflater"/> while it runs).</summary>
    private sealed class Feed : Stream
    {
        private byte* _next;
        private int _left;

        public int Left => _left;

        public void Set(byte* input, int length)
        {
            _next = input;
            _left = length;
        }

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, _left);
            new ReadOnlySpan<byte>(_next, n).CopyTo(buffer);
            _next += n;
            _left -= n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
