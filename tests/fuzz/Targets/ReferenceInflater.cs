using System.IO.Compression;
using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// RFC 7692's receiving side read with the BCL's <see cref="DeflateStream"/> (its own zlib-ng, sharing nothing with
/// WsGen's inflater): a message is its bytes followed by 00 00 FF FF; with context takeover the messages of a
/// connection form one stream, read from the start every time. The stream is given one byte per read, and says when
/// it was asked for more than it has: so the reference knows where a final block (BFINAL) ended, which WsGen
/// refuses to see followed by more bytes and after which it starts a new stream.
/// </summary>
internal sealed class ReferenceInflater(int chunkSize, bool contextTakeover)
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];
    private readonly List<byte> _stream = [];   // the messages since the stream began, each with its tail
    private int _before;                         // the bytes they inflated to, before the current message

    /// <summary>How far past the limit a message that is too big is read on, to tell whether its bytes are also bad:
    /// zlib may decode the code after the one that reached the limit in the same call, and fail on it.</summary>
    private const int ReadOn = 1024;

    /// <summary>The message <paramref name="compressed"/> inflated (null on failure), or 1007 for bytes that do not
    /// inflate, or 1009 past <paramref name="limit"/>; then <c>AlsoBad</c> when the bytes fail to inflate within
    /// <see cref="ReadOn"/> bytes past the limit (either code is then right).</summary>
    public (byte[]? Message, WebSocketCloseCode Verdict, bool AlsoBad) Inflate(byte[] compressed, long limit)
    {
        if (!contextTakeover)
            Restart();
        int start = _stream.Count;
        _stream.AddRange(compressed);
        _stream.AddRange(Tail);

        var source = new OneByteAtATime([.. _stream]);
        using var inflater = new DeflateStream(source, CompressionMode.Decompress);
        var output = new MemoryStream();
        byte[] buffer = new byte[chunkSize];
        try
        {
            Skip(inflater, _before, buffer);
            while (true)
            {
                // Reads end where WsGen's chunks and limit end, so that zlib stops at the same places.
                long room = Math.Min(chunkSize - output.Length % chunkSize, limit + 1 - output.Length);
                int n = inflater.Read(buffer, 0, (int)room);
                if (n == 0)
                    break;
                output.Write(buffer, 0, n);
                if (output.Length > limit)
                    return (null, WebSocketCloseCode.MessageTooBig, FailsWithin(inflater, ReadOn, buffer));
            }
        }
        catch (InvalidDataException)
        {
            return (null, WebSocketCloseCode.InvalidPayloadData, false);
        }

        if (!source.AskedPastEnd)
        {
            // A final block ended: only right at the end of the message or of its tail, and the stream starts over.
            int end = source.Consumed;
            if (end != start + compressed.Length && end != _stream.Count)
                return (null, WebSocketCloseCode.InvalidPayloadData, false);
            Restart();
        }
        else
        {
            _before += (int)output.Length;
        }

        return (output.ToArray(), 0, false);
    }

    private void Restart()
    {
        _stream.Clear();
        _before = 0;
    }

    /// <summary>True when <paramref name="inflater"/> fails within the next <paramref name="count"/> bytes of output.</summary>
    private static bool FailsWithin(DeflateStream inflater, int count, byte[] buffer)
    {
        try
        {
            for (int n = 1; count > 0 && n > 0; count -= n)
                n = inflater.Read(buffer, 0, Math.Min(count, buffer.Length));
            return false;
        }
        catch (InvalidDataException)
        {
            return true;
        }
    }

    /// <summary>Reads past what the earlier messages inflated to.</summary>
    private static void Skip(DeflateStream inflater, int count, byte[] buffer)
    {
        while (count > 0)
        {
            int n = inflater.Read(buffer, 0, Math.Min(count, buffer.Length));
            Invariant.Check(n > 0, "the reference lost an earlier message");
            count -= n;
        }
    }

    /// <summary>Bytes one at a time; records a read asked for past the end.</summary>
    private sealed class OneByteAtATime(byte[] bytes) : Stream
    {
        public int Consumed { get; private set; }

        public bool AskedPastEnd { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty)
                return 0;
            if (Consumed == bytes.Length)
            {
                AskedPastEnd = true;
                return 0;
            }

            buffer[0] = bytes[Consumed++];
            return 1;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Consumed; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
