using BenchmarkDotNet.Attributes;
using WsGen;
using WsGen.Protocol;

namespace WsGen.Benchmarks;

/// <summary>Unmasking in place: bytes per second at sizes from a chat line to a large binary message.</summary>
[MemoryDiagnoser]
public class UnmaskBenchmarks
{
    private byte[] _data = [];

    [Params(32, 1024, 16 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup() => _data = new byte[Size];

    [Benchmark]
    public void Unmask() => Masking.Unmask(_data, 0x12345678u, 1);
}

/// <summary>Validating UTF-8 text: ASCII, mixed scripts, and the same text fed in 1 KiB chunks (incremental).</summary>
[MemoryDiagnoser]
public class Utf8Benchmarks
{
    private byte[] _ascii = [];
    private byte[] _mixed = [];

    [Params(32, 16 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ascii = System.Text.Encoding.UTF8.GetBytes(new string('a', Size));
        var mixed = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("żółć 日本語 🎉 text ", Size / 8 + 1)));
        _mixed = mixed[..FitToCodePoints(mixed, Size)];
    }

    [Benchmark(Baseline = true)]
    public bool Ascii() => Utf8Validator.IsValid(_ascii);

    [Benchmark]
    public bool Mixed() => Utf8Validator.IsValid(_mixed);

    [Benchmark]
    public bool MixedIncremental()
    {
        var validator = default(Utf8Validator);
        for (int i = 0; i < _mixed.Length; i += 1024)
            if (!validator.Append(_mixed.AsSpan(i, Math.Min(1024, _mixed.Length - i))))
                return false;
        return validator.Complete();
    }

    private static int FitToCodePoints(byte[] bytes, int size)
    {
        int end = Math.Min(size, bytes.Length);
        while (end > 0 && (bytes[end] & 0xC0) == 0x80)
            end--;
        return end;
    }
}

/// <summary>The frame reader over a receive buffer full of masked frames, as the loop hands it over: ns per frame.</summary>
[MemoryDiagnoser]
public class FrameReaderBenchmarks
{
    private const int Frames = 1000;
    private static readonly ReaderOptions Options = new() { MaxMessageSize = 1 << 20, ExpectMasked = true };
    private byte[] _wire = [];
    private byte[] _buffer = [];

    [Params(32, 1024, 16 * 1024)]
    public int PayloadSize { get; set; }

    [Params(WebSocketOpcode.Binary, WebSocketOpcode.Text)]
    public WebSocketOpcode Opcode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var payload = System.Text.Encoding.ASCII.GetBytes(new string('x', PayloadSize));
        var frame = new byte[PayloadSize + 14];
        int length = FrameWriter.WriteFrame(frame, Opcode, true, payload, 0x0A0B0C0Du);
        _wire = new byte[length * Frames];
        for (int i = 0; i < Frames; i++)
            frame.AsSpan(0, length).CopyTo(_wire.AsSpan(i * length));
        _buffer = new byte[_wire.Length];
    }

    /// <summary>Reads 1,000 frames (copying the wire bytes in first, since the reader unmasks in place).</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int Read()
    {
        _wire.CopyTo(_buffer, 0);
        var reader = default(WebSocketReader);
        var sink = new CountingSink();
        reader.Read(_buffer, Options, ref sink);
        return sink.Count;
    }

    private struct CountingSink : IFrameSink
    {
        public int Count;
        public void OnMessage(WebSocketOpcode opcode, Span<byte> payload) => Count++;
        public void OnPing(Span<byte> payload) { }
        public void OnPong(Span<byte> payload) { }
        public void OnClose(ushort code, ReadOnlySpan<byte> reason) { }
    }
}
