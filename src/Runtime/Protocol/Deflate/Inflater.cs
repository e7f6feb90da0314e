using WsGen.Native;

namespace WsGen.Protocol;

/// <summary>
/// Decompresses whole messages of RFC 7692: the message's bytes, then the 4-byte tail (00 00 FF FF) the sender
/// removed, fed from a constant of its own: the input is never written to, so a message read zero-copy from the loop's
/// receive buffer leaves the frames behind it intact. The output goes into chunks and stops at the message limit: a
/// message that would inflate past it fails while inflating, with at most the limit plus one chunk ever held. The zlib state
/// (see <see cref="Zlib"/>) is made on first use and lives in native memory until <see cref="ZlibStream.Dispose"/>.
/// </summary>
internal sealed unsafe class Inflater(int windowBits) : ZlibStream
{
    private static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>Inflates <paramref name="compressed"/> into <paramref name="output"/>, chunk by chunk; with
    /// <paramref name="reset"/> the next message starts from an empty window (no context takeover).</summary>
    /// <returns>None, or 1007 for bytes that do not inflate, or 1009 past <paramref name="maxMessageSize"/>: then the
    /// output held at most the limit plus one chunk.</returns>
    public WebSocketCloseCode Inflate(ReadOnlySpan<byte> compressed, long maxMessageSize, DeflateBuffer output, bool reset, out Span<byte> message)
    {
        Zlib.ZStream* z = Stream();
        var state = new Output(output, (int)Math.Min(maxMessageSize, int.MaxValue - 1) + 1);   // one byte over the limit shows the excess
        var code = Run(z, compressed, ref state, out bool ended);
        if (code == 0 && !ended)
            code = Run(z, Tail, ref state, out ended);
        // A stream that ended (a block with BFINAL) or failed starts over; so does every message without context takeover.
        if (reset || ended || code != 0)
            Zlib.InflateReset(z);
        message = code == 0 ? output.Join(state.Produced) : default;
        return code;
    }

    /// <summary>Where the inflated bytes go: the current chunk, how much of it is used, the total so far.</summary>
    private struct Output(DeflateBuffer buffer, int limit)
    {
        public byte[] Chunk = buffer.StartChunks();
        public int Used;
        public int Produced;

        /// <summary>Room left in the current chunk (a rented one may be longer than <see cref="DeflateBuffer.ChunkSize"/>,
        /// which is all <see cref="DeflateBuffer.Join"/> takes of it), within the limit (plus the byte that shows an excess).</summary>
        public readonly int Room => Math.Min(buffer.ChunkSize - Used, limit - Produced);

        public readonly bool AtLimit => Produced >= limit;

        public void Advance(int n)
        {
            Used += n;
            Produced += n;
        }

        public void NextChunk()
        {
            Chunk = buffer.NextChunk();
            Used = 0;
        }
    }

    private static WebSocketCloseCode Run(Zlib.ZStream* z, ReadOnlySpan<byte> input, ref Output output, out bool ended)
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
                    if (output.Room == 0)
                    {
                        if (output.AtLimit)
                            return WebSocketCloseCode.MessageTooBig;
                        output.NextChunk();
                    }
                    int room = output.Room, result;
                    fixed (byte* dest = output.Chunk)
                    {
                        z->NextOut = dest + output.Used;
                        z->AvailOut = (uint)room;
                        result = Zlib.Inflate(z, Zlib.SyncFlush);
                        output.Advance(room - (int)z->AvailOut);
                    }
                    if (result == Zlib.StreamEnd)
                    {
                        ended = true;
                        // The final block may end exactly one byte past the limit. Bytes after it are not deflate data.
                        if (output.AtLimit)
                            return WebSocketCloseCode.MessageTooBig;
                        return z->AvailIn == 0 ? 0 : WebSocketCloseCode.InvalidPayloadData;
                    }
                    if (result is not (Zlib.Ok or Zlib.BufError))
                        return WebSocketCloseCode.InvalidPayloadData;
                    if (z->AvailOut != 0)
                    {
                        // Output room is left, so zlib took all the input it could.
                        if (z->AvailIn == 0)
                            return 0;
                        if (result == Zlib.BufError)
                            return WebSocketCloseCode.InvalidPayloadData;
                    }
                }
            }
            finally
            {
                z->NextIn = null;
                z->NextOut = null;
            }
        }
    }

    protected override int Init(Zlib.ZStream* stream) => Zlib.InflateInit(stream, windowBits);

    protected override void End(Zlib.ZStream* stream) => Zlib.InflateEnd(stream);
}
