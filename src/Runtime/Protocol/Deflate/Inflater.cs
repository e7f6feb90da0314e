using WsGen.Native;

namespace WsGen.Protocol;

/// <summary>
/// Decompresses whole messages of RFC 7692: the message's bytes, then the 4-byte tail (00 00 FF FF) the sender
/// removed, fed from a constant of its own: the input is never written to, so a message read zero-copy from the loop's
/// receive buffer leaves the frames behind it intact. The output stops at the message limit: a message that would
/// inflate past it fails while inflating, with at most the limit plus one byte of output ever held. The zlib state
/// (see <see cref="Zlib"/>) is made on first use and lives in native memory until <see cref="Dispose"/>.
/// </summary>
internal sealed unsafe class Inflater(int windowBits) : IDisposable
{
    /// <summary>The first output buffer asked for a message: its compressed size times this, within the limit.</summary>
    private const int ExpectedRatio = 4;

    private Zlib.ZStream* _stream;

    ~Inflater() => Free();

    private static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>Inflates <paramref name="compressed"/> into <paramref name="output"/>; with <paramref name="reset"/>
    /// the next message starts from an empty window (no context takeover).</summary>
    /// <returns>None, or 1007 for bytes that do not inflate, or 1009 past <paramref name="maxMessageSize"/>.</returns>
    public WebSocketCloseCode Inflate(ReadOnlySpan<byte> compressed, long maxMessageSize, DeflateBuffer output, bool reset, out Span<byte> message)
    {
        Zlib.ZStream* z = Stream();
        int limit = (int)Math.Min(maxMessageSize, int.MaxValue - 1) + 1;   // one byte more than allowed shows the excess
        byte[] buffer = output.Start((int)Math.Min(limit, Math.Max(256L, (long)compressed.Length * ExpectedRatio)));
        int produced = 0;
        var code = Run(z, compressed, limit, output, ref buffer, ref produced, out bool ended);
        if (code == 0 && !ended)
            code = Run(z, Tail, limit, output, ref buffer, ref produced, out ended);
        // A stream that ended (a block with BFINAL) or failed starts over; so does every message without context takeover.
        if (reset || ended || code != 0)
            Zlib.InflateReset(z);
        message = code == 0 ? buffer.AsSpan(0, produced) : default;
        return code;
    }

    private static WebSocketCloseCode Run(Zlib.ZStream* z, ReadOnlySpan<byte> input, int limit, DeflateBuffer output, ref byte[] buffer, ref int produced, out bool ended)
    {
        ended = false;
        fixed (byte* source = input)
        {
            z->NextIn = source;
            z->AvailIn = (uint)input.Length;
            try
            {
                while (true)
                {
                    int result;
                    fixed (byte* dest = buffer)
                    {
                        z->NextOut = dest + produced;
                        z->AvailOut = (uint)(Math.Min(buffer.Length, limit) - produced);
                        result = Zlib.Inflate(z, Zlib.SyncFlush);
                        produced = Math.Min(buffer.Length, limit) - (int)z->AvailOut;
                    }
                    if (result == Zlib.StreamEnd)
                    {
                        ended = true;
                        // Bytes after the final block are not deflate data.
                        return z->AvailIn == 0 ? 0 : WebSocketCloseCode.InvalidPayloadData;
                    }
                    if (result is not (Zlib.Ok or Zlib.BufError))
                        return WebSocketCloseCode.InvalidPayloadData;
                    if (z->AvailOut != 0)
                    {
                        if (z->AvailIn == 0)
                            return 0;
                        if (result == Zlib.BufError)
                            return WebSocketCloseCode.InvalidPayloadData;
                        continue;
                    }
                    if (produced >= limit)
                        return WebSocketCloseCode.MessageTooBig;
                    buffer = output.Grow(produced, (int)Math.Min(limit, (long)buffer.Length * 2));
                }
            }
            finally
            {
                z->NextIn = null;
                z->NextOut = null;
            }
        }
    }

    private Zlib.ZStream* Stream()
    {
        if (_stream is not null)
            return _stream;
        var z = Zlib.AllocStream();
        int result = Zlib.InflateInit(z, windowBits);
        if (result != Zlib.Ok)
        {
            Zlib.FreeStream(z);
            throw new InvalidOperationException($"zlib inflateInit2 failed ({result}).");
        }
        _stream = z;
        return z;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_stream is null)
            return;
        Zlib.InflateEnd(_stream);
        Zlib.FreeStream(_stream);
        _stream = null;
    }
}
