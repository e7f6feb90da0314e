using WsGen.Native;

namespace WsGen.Protocol;

/// <summary>
/// The raw deflate implementation under permessage-deflate: the platform's zlib (<see cref="Zlib"/>), or, where it
/// cannot be loaded, .NET's own <see cref="System.IO.Compression.DeflateStream"/>. <see cref="Deflater"/> and
/// <see cref="Inflater"/> do the framing of RFC 7692 over either (<see cref="IDeflateEngine"/>,
/// <see cref="IInflateEngine"/>).
/// </summary>
/// <remarks>
/// What the DeflateStream engine cannot do, and what that costs (.NET 10's DeflateStream takes a level and a
/// strategy through <see cref="System.IO.Compression.ZLibCompressionOptions"/>, but no window size and no reset):
/// <list type="bullet">
/// <item>Its deflater always has a 15-bit window and zlib's default memory level (about 256 KiB per stream):
/// offers of <c>server_max_window_bits</c> below 15 are declined, and dedicated mode's
/// <c>CompressionWindowBits</c> limits only what the client is asked for.</item>
/// <item>A deflater starts a message from an empty window only as a new stream: without context takeover on the
/// sending side (every message in shared mode) each compressed message makes and frees a DeflateStream (managed
/// objects and zlib's state).</item>
/// <item>An inflater that must forget the previous message (every message in shared mode, where one inflater serves
/// every connection of the loop) is a new stream per message too. In dedicated mode a connection's inflater keeps its
/// window even under <c>client_no_context_takeover</c>: the only bytes it could refer back to are the peer's own, so
/// it is not restarted.</item>
/// <item>Bytes after a final block (BFINAL) that DeflateStream has already buffered are not seen: they are ignored
/// instead of failing the message with 1007.</item>
/// </list>
/// With context takeover in both directions (dedicated mode's default) no stream is made per message and nothing is
/// allocated per message; the limit on inflated bytes holds with either engine.
/// </remarks>
internal enum DeflateEngine
{
    /// <summary>The platform's zlib through <see cref="Zlib"/>.</summary>
    Zlib,

    /// <summary>System.IO.Compression's DeflateStream.</summary>
    DeflateStream,
}

/// <summary>Which engine runs, and what each can do.</summary>
internal static class DeflateEngines
{
    /// <summary>The variable that chooses the engine for a process: <c>zlib</c> or <c>deflatestream</c> (for tests and
    /// benchmarks of the fallback on a platform that has zlib).</summary>
    public const string EnvironmentVariable = "WSGEN_DEFLATE_ENGINE";

    /// <summary>The engine used when none is chosen: <see cref="EnvironmentVariable"/> when set, else zlib where it
    /// loads and DeflateStream elsewhere (Windows).</summary>
    public static DeflateEngine Default { get; } = Environment.GetEnvironmentVariable(EnvironmentVariable)?.ToLowerInvariant() switch
    {
        "deflatestream" => DeflateEngine.DeflateStream,
        "zlib" when Zlib.IsAvailable => DeflateEngine.Zlib,
        _ => Zlib.IsAvailable ? DeflateEngine.Zlib : DeflateEngine.DeflateStream,
    };

    /// <summary>The smallest window <paramref name="engine"/>'s deflater can be limited to: 9 for zlib (it refuses 8
    /// for raw streams), 15 for DeflateStream (it cannot be limited).</summary>
    public static int MinWindowBits(this DeflateEngine engine) =>
        engine == DeflateEngine.Zlib ? DeflateParameters.MinDeflateWindowBits : 15;

    /// <summary>A deflater of <paramref name="engine"/> (the window and memory level apply to zlib only).</summary>
    public static IDeflateEngine CreateDeflater(this DeflateEngine engine, int windowBits, int memLevel) =>
        engine == DeflateEngine.Zlib ? new ZlibDeflateEngine(windowBits, memLevel) : new StreamDeflateEngine();

    /// <summary>An inflater of <paramref name="engine"/> for windows up to <paramref name="windowBits"/> (zlib only:
    /// DeflateStream's reads any window).</summary>
    public static IInflateEngine CreateInflater(this DeflateEngine engine, int windowBits) =>
        engine == DeflateEngine.Zlib ? new ZlibInflateEngine(windowBits) : new StreamInflateEngine();
}

/// <summary>A raw deflate compressor, as <see cref="Deflater"/> drives it: one whole message per call, ended by a sync
/// flush. Its state is made on first use.</summary>
internal interface IDeflateEngine : IDisposable
{
    /// <summary>Compresses <paramref name="message"/> (not empty) and ends with a sync flush, so that the output ends with
    /// the empty stored block's 00 00 FF FF; the output starts at index 0 of <paramref name="output"/>'s array (begun
    /// with <see cref="DeflateBuffer.Start"/>, grown with <see cref="DeflateBuffer.Grow"/>).</summary>
    /// <returns>The bytes written.</returns>
    int Compress(ReadOnlySpan<byte> message, DeflateBuffer output);

    /// <summary>The next message starts from an empty window.</summary>
    void Reset();
}

/// <summary>What <see cref="IInflateEngine.Inflate"/> reached.</summary>
internal enum InflateStep
{
    /// <summary>The output is full or the input is used up.</summary>
    Ok,

    /// <summary>The deflate stream ended (a block with BFINAL).</summary>
    End,

    /// <summary>The input is not deflate data.</summary>
    Error,
}

/// <summary>A raw deflate decompressor, as <see cref="Inflater"/> drives it: input given by pointer (the caller keeps it
/// pinned until the message is done), output into spans. Its state is made on first use.</summary>
internal unsafe interface IInflateEngine : IDisposable
{
    /// <summary>The next <paramref name="length"/> input bytes at <paramref name="input"/> (null to forget them).</summary>
    void SetInput(byte* input, int length);

    /// <summary>True while input given to <see cref="SetInput"/> is left unread.</summary>
    bool HasInput { get; }

    /// <summary>True when <see cref="Inflate"/> reports the end of the stream as soon as the final block ends, so that
    /// <see cref="HasInput"/> then means bytes after it; false for an engine that sees the end only when input is left
    /// over.</summary>
    bool SeesEndExactly { get; }

    /// <summary>Inflates into <paramref name="output"/> until it is full, the input is used up, the stream ends or the
    /// data fails.</summary>
    InflateStep Inflate(Span<byte> output, out int produced);

    /// <summary>The next message starts a new stream with an empty window (after the end of a stream, a failure, or a
    /// message without context takeover).</summary>
    void Reset();
}
