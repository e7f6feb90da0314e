namespace WsGen.Protocol;

/// <summary>
/// Compresses whole messages as RFC 7692 section 7.2.1 asks: raw deflate ended by a sync flush, whose empty stored
/// block's 4-byte tail (00 00 FF FF) is removed; the compression itself is the engine's (<see cref="IDeflateEngine"/>).
/// </summary>
internal sealed class Deflater : IDisposable
{
    private readonly IDeflateEngine engine;

    /// <summary>zlib's default level (6): the level uWebSockets and npm ws use, so the bytes on the wire compare.</summary>
    public const int Level = 6;

    /// <summary>A deflater of <paramref name="engine"/> with a window of <paramref name="windowBits"/> (9 to 15) and
    /// zlib's <paramref name="memLevel"/>, where the engine can choose them.</summary>
    public Deflater(DeflateEngine engine, int windowBits, int memLevel)
    {
        this.engine = engine.CreateDeflater(windowBits, memLevel);
        WindowBits = windowBits;
    }

    /// <summary>The window this deflater was asked for: what its output may refer back to, at most (an engine that
    /// cannot choose is only given 15, see <see cref="DeflateEngine"/>).</summary>
    public int WindowBits { get; }

    /// <summary>Compresses <paramref name="message"/> (not empty) into <paramref name="output"/>; with
    /// <paramref name="reset"/>, the next message starts from an empty window (no context takeover).</summary>
    /// <returns>The compressed message, in <paramref name="output"/>'s array.</returns>
    public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> message, DeflateBuffer output, bool reset)
    {
        int produced = engine.Compress(message, output);
        if (reset)
            engine.Reset();
        // The sync flush always ends with the empty stored block's 00 00 FF FF.
        return output.Array.AsSpan(0, produced - 4);
    }

    public void Dispose() => engine.Dispose();
}
