namespace WsGen.Protocol;

/// <summary>
/// Decompresses whole messages of RFC 7692: the message's bytes, then the 4-byte tail (00 00 FF FF) the sender
/// removed, fed from a constant of its own: the input is never written to, so a message read zero-copy from the loop's
/// receive buffer leaves the frames behind it intact. The output goes into chunks and stops at the message limit: a
/// message that would inflate past it fails while inflating, with at most the limit plus one chunk ever held. The
/// decompression itself is the engine's (<see cref="IInflateEngine"/>).
/// </summary>
internal sealed unsafe class Inflater(IInflateEngine engine) : IDisposable
{
    private static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>An inflater of <paramref name="engine"/> for windows up to <paramref name="windowBits"/>.</summary>
    public Inflater(DeflateEngine engine, int windowBits)
        : this(engine.CreateInflater(windowBits))
    {
    }

    /// <summary>Inflates <paramref name="compressed"/> into <paramref name="output"/>, chunk by chunk; with
    /// <paramref name="reset"/> the next message starts from an empty window (no context takeover).</summary>
    /// <returns>None, or 1007 for bytes that do not inflate, or 1009 past <paramref name="maxMessageSize"/>: then the
    /// output held at most the limit plus one chunk.</returns>
    public WebSocketCloseCode Inflate(ReadOnlySpan<byte> compressed, long maxMessageSize, DeflateBuffer output, bool reset, out Span<byte> message)
    {
        var state = new Output(output, (int)Math.Min(maxMessageSize, int.MaxValue - 1) + 1);   // one byte over the limit shows the excess
        var code = Run(compressed, ref state, tail: false, out bool ended);
        if (code == 0 && !ended)
            code = Run(Tail, ref state, tail: true, out ended);
        // A stream that ended (a block with BFINAL) or failed starts over; so does every message without context takeover.
        if (reset || ended || code != 0)
            engine.Reset();
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

    private WebSocketCloseCode Run(ReadOnlySpan<byte> input, ref Output output, bool tail, out bool ended)
    {
        ended = false;
        fixed (byte* source = input)
        {
            engine.SetInput(source, input.Length);
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
                    int room = output.Room;
                    var step = engine.Inflate(output.Chunk.AsSpan(output.Used, room), out int produced);
                    output.Advance(produced);
                    if (step == InflateStep.End)
                    {
                        ended = true;
                        // The final block may end exactly one byte past the limit. Bytes after it are not deflate data,
                        // the tail's included: a message that ends with a final block (RFC 7692 7.2.3.3) ends it in its
                        // own bytes, and the tail is not fed then. An engine that sees the end only once input is left
                        // over (DeflateStream) is taken at its word while the tail runs.
                        if (output.AtLimit)
                            return WebSocketCloseCode.MessageTooBig;
                        return engine.HasInput && (engine.SeesEndExactly || !tail) ? WebSocketCloseCode.InvalidPayloadData : 0;
                    }
                    if (step == InflateStep.Error)
                        return WebSocketCloseCode.InvalidPayloadData;
                    // Output room is left, so the input is used up.
                    if (produced < room)
                        return 0;
                }
            }
            finally
            {
                engine.SetInput(null, 0);
            }
        }
    }

    public void Dispose() => engine.Dispose();
}
