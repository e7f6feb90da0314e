using WsGen.Protocol;
using WsGen.Tests.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// The frame reader (<see cref="WebSocketReader"/>) on a server (masked frames expected) or a client (unmasked).
/// Input: a configuration byte (maximum message size, pool buffer size, RSV1 allowed, how to cut the stream), a seed
/// for the cuts, then the byte stream. Invariants:
/// <list type="bullet">
/// <item>The reader delivers exactly what <see cref="ReferenceReader"/> reads, and fails with the same close code,
/// one of those RFC 6455 allows for it (1002, 1007, 1009); whole or cut, the same events and the same error.</item>
/// <item>Every chunk ends at a guard page, with a canary before it: nothing reads past the end or writes before the start.</item>
/// <item>Every pooled buffer goes back exactly once (a second or foreign Put throws), none is held after an error
/// or a close, and none after Dispose; after an error, Read repeats it and delivers nothing.</item>
/// </list>
/// </summary>
internal sealed class FrameReaderTarget(bool server) : IFuzzTarget
{
    private static readonly long[] MaxSizes = [ReaderOptions.DefaultMaxMessageSize, 1024, 125, 70_000];
    private static readonly int[] PoolSizes = [0, 16, 256, 4096];
    private readonly GuardedBuffer _receive = new(1 << 20);

    public string Name => server ? "frame-server" : "frame-client";

    public void Run(ReadOnlySpan<byte> input)
    {
        // A short input is read too, so that every run covers some code (see Program.cs).
        if (input.Length < 2)
            input = input.IsEmpty ? new byte[2] : new byte[] { input[0], 0 };

        byte config = input[0];
        long maxMessageSize = MaxSizes[config & 3];
        int poolSize = PoolSizes[(config >> 2) & 3];
        bool allowRsv1 = (config & 0x10) != 0;
        int chunking = config >> 5;
        var cuts = new Random(input[1]);
        ReadOnlySpan<byte> stream = input.Slice(2);

        (List<FrameEvent> expected, WebSocketCloseCode? failure) = ReferenceReader.Read(stream, server, maxMessageSize, allowRsv1);

        // Once in one piece, once cut as the configuration says.
        RunReader(stream, maxMessageSize, poolSize, allowRsv1, expected, failure, _ => int.MaxValue);
        RunReader(stream, maxMessageSize, poolSize, allowRsv1, expected, failure, chunking switch
        {
            0 => _ => 1,
            1 => _ => cuts.Next(1, 4),
            2 => _ => cuts.Next(1, 16),
            3 => _ => cuts.Next(1, 300),
            4 => _ => cuts.Next(1, 5000),
            5 => left => cuts.Next(2) == 0 ? 1 : left,
            _ => _ => cuts.Next(4) switch { 0 => 1, 1 => cuts.Next(2, 15), 2 => cuts.Next(15, 3000), _ => cuts.Next(3000, 70_000) },
        });
    }

    private void RunReader(ReadOnlySpan<byte> stream, long maxMessageSize, int poolSize, bool allowRsv1,
        List<FrameEvent> expected, WebSocketCloseCode? failure, Func<int, int> nextChunk)
    {
        var pool = poolSize == 0 ? null : new CountingBytePool(poolSize);
        var options = new ReaderOptions { ExpectMasked = server, MaxMessageSize = maxMessageSize, Pool = pool };
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        if (allowRsv1)
            reader.AllowRsv1();

        ReadResult result = default;
        int position = 0;
        while (position < stream.Length)
        {
            int length = Math.Clamp(nextChunk(stream.Length - position), 1, Math.Min(stream.Length - position, _receive.Capacity));
            Span<byte> chunk = _receive.Place(stream.Slice(position, length));
            result = reader.Read(chunk, options, ref sink);
            Invariant.Check(_receive.CanaryIntact(), "the reader wrote before the start of its input");
            position += length;
            if (result.IsError)
                break;
        }

        Invariant.Check(sink.Events.Count == expected.Count,
            $"{sink.Events.Count} events delivered, the reference reads {expected.Count}: [{string.Join(", ", sink.Events)}] vs [{string.Join(", ", expected)}]");
        for (int i = 0; i < expected.Count; i++)
            Invariant.Check(sink.Events[i].SameAs(expected[i]), $"event {i}: {sink.Events[i]} delivered, the reference reads {expected[i]}");

        WebSocketCloseCode? code = result.IsError ? result.Code : null;
        Invariant.Check(code == failure, $"the reader ended with {result}, the reference with {failure?.ToString() ?? "no error"}");
        if (result.IsError)
        {
            Invariant.Check(!reader.HoldsBuffer, "a failed reader still holds a buffer");
            int before = sink.Events.Count;
            ReadResult again = reader.Read(_receive.Place([0x81]), options, ref sink);
            Invariant.Check(again.Error == result.Error && sink.Events.Count == before, "a failed reader read on");
        }

        if (reader.IsCloseReceived)
            Invariant.Check(!reader.HoldsBuffer, "a reader holds a buffer after the close frame");
        reader.Dispose();
        Invariant.Check(pool is null || pool.Outstanding == 0, $"{pool?.Outstanding} pooled buffers not given back");
    }

    /// <summary>Copies what the reader delivers.</summary>
    private sealed class RecordingSink : IFrameSink
    {
        public List<FrameEvent> Events { get; } = [];

        public void OnMessage(WebSocketOpcode opcode, Span<byte> payload) => Events.Add(new(opcode.ToString(), payload.ToArray(), 0));

        public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload) => Events.Add(new("Rsv1 " + opcode, payload.ToArray(), 0));

        public void OnPing(Span<byte> payload) => Events.Add(new("Ping", payload.ToArray(), 0));

        public void OnPong(Span<byte> payload) => Events.Add(new("Pong", payload.ToArray(), 0));

        public void OnClose(ushort code, ReadOnlySpan<byte> reason) => Events.Add(new("Close", reason.ToArray(), code));
    }
}
