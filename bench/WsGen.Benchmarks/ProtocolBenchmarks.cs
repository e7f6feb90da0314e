using System.Text;
using BenchmarkDotNet.Attributes;
using WsGen;
using WsGen.Protocol;

namespace WsGen.Benchmarks;

/// <summary>Unmasking in place: bytes per second at sizes from a chat line to a large binary message.</summary>
[MemoryDiagnoser]
public class UnmaskBenchmarks
{
    private byte[] _data = [];

    [Params(32, 1024, 16 * 1024, 64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _data = new byte[Size];

    /// <summary>One payload of <see cref="Size"/> bytes, at mask offset 1 (so the key is rotated, as mid-frame).</summary>
    [Benchmark]
    public void Unmask() => Masking.Unmask(_data, 0x12345678u, 1);
}

/// <summary>
/// Validating UTF-8 text of exactly <see cref="Size"/> bytes: ASCII, mixed scripts (2-, 3- and 4-byte sequences),
/// and the mixed text fed in 1 KiB chunks through the incremental validator, as a text message split across reads.
/// </summary>
[MemoryDiagnoser]
public class Utf8Benchmarks
{
    private const string MixedSample = "żółć 日本語 🎉 text ";

    private byte[] _ascii = [];
    private byte[] _mixed = [];

    [Params(32, 1024, 16 * 1024, 64 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ascii = Encoding.UTF8.GetBytes(new string('a', Size));
        _mixed = MixedText(Size);
        if (!Utf8Validator.IsValid(_ascii) || !Utf8Validator.IsValid(_mixed) || !MixedIncremental())
            throw new InvalidOperationException("The benchmark text is not valid UTF-8.");
    }

    [Benchmark]
    public bool Ascii() => Utf8Validator.IsValid(_ascii);

    [Benchmark]
    public bool Mixed() => Utf8Validator.IsValid(_mixed);

    [Benchmark]
    public bool MixedIncremental()
    {
        var validator = default(Utf8Validator);
        for (int i = 0; i < _mixed.Length; i += 1024)
        {
            if (!validator.Append(_mixed.AsSpan(i, Math.Min(1024, _mixed.Length - i))))
                return false;
        }

        return validator.Complete();
    }

    /// <summary>
    /// <paramref name="size"/> bytes of the mixed sample repeated, cut at a code point boundary and padded with ASCII
    /// to exactly <paramref name="size"/> bytes, so that the throughput column counts the bytes actually validated.
    /// </summary>
    private static byte[] MixedText(int size)
    {
        byte[] sample = Encoding.UTF8.GetBytes(MixedSample);
        var text = new byte[size];
        for (int i = 0; i < size; i += sample.Length)
            sample.AsSpan(0, Math.Min(sample.Length, size - i)).CopyTo(text.AsSpan(i));

        int end = size;
        while (end > 0 && (text[end - 1] & 0x80) != 0 && !IsCompleteBefore(text, end))
            end--;
        text.AsSpan(end).Fill((byte)'a');
        return text;
    }

    /// <summary>True when a whole code point ends just before <paramref name="end"/>.</summary>
    private static bool IsCompleteBefore(byte[] text, int end)
    {
        int lead = end - 1;
        while (lead > 0 && (text[lead] & 0xC0) == 0x80)
            lead--;
        int length = text[lead] switch
        {
            < 0x80 => 1,
            >= 0xF0 => 4,
            >= 0xE0 => 3,
            _ => 2,
        };
        return end - lead == length;
    }
}

/// <summary>
/// The frame reader over a receive buffer holding <see cref="Frames"/> whole masked frames, as a loop hands it over:
/// each frame's header is parsed, its payload unmasked in place (and validated, for text) and delivered to a sink.
/// The mean is per frame (<c>OperationsPerInvoke</c>).
/// </summary>
/// <remarks>
/// The buffer is not restored between invocations: the reader unmasks in place and masking is its own inverse, so
/// the payload alternates between its masked and plain forms. The payload is ASCII and every key byte is below 0x80,
/// so both forms are valid UTF-8 and every invocation does the same work (checked in <see cref="Setup"/>).
/// </remarks>
[MemoryDiagnoser]
public class FrameReaderBenchmarks
{
    private const int Frames = 64;
    private const uint MaskKey = 0x0A0B0C0Du;
    private static readonly ReaderOptions Options = new() { MaxMessageSize = 1 << 20, ExpectMasked = true };
    private byte[] _buffer = [];

    [Params(32, 1024, 16 * 1024, 64 * 1024)]
    public int PayloadSize { get; set; }

    [Params(WebSocketOpcode.Binary, WebSocketOpcode.Text)]
    public WebSocketOpcode Opcode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] payload = Encoding.ASCII.GetBytes(new string('x', PayloadSize));
        var frame = new byte[PayloadSize + FrameHeader.MaxLength];
        int length = FrameWriter.WriteFrame(frame, Opcode, true, payload, MaskKey);
        _buffer = new byte[length * Frames];
        for (int i = 0; i < Frames; i++)
            frame.AsSpan(0, length).CopyTo(_buffer.AsSpan(i * length));

        // Both phases of the buffer (masked, then plain) must read as Frames messages.
        if (Read() != Frames || Read() != Frames)
            throw new InvalidOperationException("The reader did not deliver every frame of the benchmark buffer.");
    }

    /// <summary>Reads the whole buffer with a fresh reader; returns the messages delivered, or -1 on an error.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int Read()
    {
        var reader = default(WebSocketReader);
        var sink = new CountingSink();
        ReadResult result = reader.Read(_buffer, Options, ref sink);
        return result.IsError ? -1 : sink.Count;
    }

    private struct CountingSink : IFrameSink
    {
        public int Count;

        public void OnMessage(WebSocketOpcode opcode, Span<byte> payload) => Count++;

        public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload) => Count++;

        public void OnPing(Span<byte> payload) { }

        public void OnPong(Span<byte> payload) { }

        public void OnClose(ushort code, ReadOnlySpan<byte> reason) { }
    }
}
