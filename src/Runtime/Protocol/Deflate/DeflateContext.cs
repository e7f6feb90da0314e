namespace WsGen.Protocol;

/// <summary>
/// What one loop (or one client) keeps for permessage-deflate, made when first needed: the output buffers every
/// transform of the loop writes into (each valid until the next call, and a loop runs one call at a time), and for
/// shared mode the one inflater and the deflaters (one per window size asked for, usually only 15) that all its
/// connections share, with the transforms over them.
/// </summary>
/// <remarks>It lives as long as its loop (or client): the shared zlib streams are freed by their finalizers when the
/// loop is collected, a connection's own ones (dedicated mode) when the connection ends.</remarks>
internal sealed class DeflateContext(DeflateEngine engine, int baseBufferSize = DeflateContext.BaseBufferSize)
{
    /// <summary>The part of each output buffer a loop keeps between messages: larger messages rent for their own time.</summary>
    public const int BaseBufferSize = 64 * 1024;

    private readonly Deflater?[] _sharedDeflaters = new Deflater?[16];
    private readonly List<(int WindowBits, int Threshold, PerMessageDeflate Transform)> _shared = [];
    private Inflater? _sharedInflater;

    public DeflateBuffer Deflated { get; } = new(baseBufferSize);

    public DeflateBuffer Inflated { get; } = new(baseBufferSize);

    /// <summary>The transform for the connections that agreed <paramref name="agreed"/> in shared mode: both sides
    /// without context takeover, the server's window as agreed (15 when not limited).</summary>
    public PerMessageDeflate Shared(in DeflateParameters agreed, int threshold)
    {
        int windowBits = agreed.ServerWindowBits == 0 ? 15 : agreed.ServerWindowBits;
        foreach (var entry in _shared)
        {
            if (entry.WindowBits == windowBits && entry.Threshold == threshold)
                return entry.Transform;
        }
        var deflater = _sharedDeflaters[windowBits] ??= new Deflater(engine, windowBits, PerMessageDeflate.SharedMemLevel);
        _sharedInflater ??= new Inflater(engine, 15);
        var transform = new PerMessageDeflate(deflater, _sharedInflater, Deflated, Inflated, resetDeflater: true, resetInflater: true, threshold, owned: false);
        _shared.Add((windowBits, threshold, transform));
        return transform;
    }

    /// <summary>A transform of one connection's own (dedicated mode), as the side that
    /// sends with <paramref name="sendWindowBits"/> and receives with <paramref name="receiveWindowBits"/>; the zlib
    /// state is made on its first message. The DeflateStream engine keeps the inflater's window even when the peer
    /// compresses without context: it could only refer back to its own earlier messages, and a reset there costs a
    /// new stream (see <see cref="DeflateEngine"/>).</summary>
    public PerMessageDeflate Dedicated(int sendWindowBits, int receiveWindowBits, bool resetDeflater, bool resetInflater, int threshold) =>
        new(new Deflater(engine, sendWindowBits, PerMessageDeflate.MemLevel(sendWindowBits)), new Inflater(engine, receiveWindowBits),
            Deflated, Inflated, resetDeflater, resetInflater && engine == DeflateEngine.Zlib, threshold, owned: true);
}
