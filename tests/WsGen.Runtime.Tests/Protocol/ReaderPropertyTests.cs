using System.Text;
using CsCheck;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

/// <summary>
/// Properties of the frame reader, checked on generated streams (CsCheck shrinks a failing case and prints the seed
/// that reproduces it): any chunking gives the same messages and the same error as the whole stream, and what the
/// writer writes the reader reads back, for every opcode, size class and fragmentation.
/// </summary>
public class ReaderPropertyTests
{
    /// <summary>The payload sizes around every length form's edges, and a large one.</summary>
    private static readonly int[] SizeClasses = [0, 1, 125, 126, 65535, 65536, 300_000];

    private static readonly WebSocketOpcode[] Opcodes =
        [WebSocketOpcode.Text, WebSocketOpcode.Binary, WebSocketOpcode.Ping, WebSocketOpcode.Pong, WebSocketOpcode.Close];

    [Fact]
    public void AnyChunkingOfAnyStreamGivesTheSameEventsAndErrorAsTheWholeStream()
    {
        Gen.Select(Gen.Int, Gen.Int[1, 12], Gen.Int[0, 3], Gen.Bool, Gen.Bool, Gen.Int)
            .Sample((seed, frames, corruption, server, allowRsv1, cutSeed) =>
            {
                var random = new Random(seed);
                byte[] stream = RandomStream(random, frames, server, corruption);
                var options = new ReaderOptions { ExpectMasked = server, MaxMessageSize = random.Next(2) == 0 ? 70_000 : ReaderOptions.DefaultMaxMessageSize };

                (List<SinkEvent> wholeEvents, ReadResult whole) = Read(stream, options, allowRsv1, left => left);
                var cuts = new Random(cutSeed);
                (List<SinkEvent> cutEvents, ReadResult cut) = Read(stream, options, allowRsv1,
                    _ => cuts.Next(3) switch { 0 => 1, 1 => cuts.Next(2, 20), _ => cuts.Next(20, 100_000) });

                Assert.Equal(whole.Error, cut.Error);
                Assert.Equal(wholeEvents.Count, cutEvents.Count);
                for (int i = 0; i < wholeEvents.Count; i++)
                    Assert.True(wholeEvents[i].Matches(cutEvents[i]), $"event {i}: {wholeEvents[i]} whole, {cutEvents[i]} cut");
            }, iter: 400, threads: 1);
    }

    [Fact]
    public void WhatTheWriterWritesTheReaderReadsForEveryOpcodeSizeAndFragmentation()
    {
        Gen.Select(Gen.Int[0, Opcodes.Length - 1], Gen.Int[0, SizeClasses.Length - 1], Gen.Int[1, 6], Gen.Bool, Gen.Int)
            .Sample((opcodeIndex, sizeIndex, fragments, server, seed) =>
            {
                WebSocketOpcode opcode = Opcodes[opcodeIndex];
                var random = new Random(seed);
                var builder = new StreamBuilder(random, masked: server);
                if (opcode == WebSocketOpcode.Close)
                {
                    // A close body: none (read as 1005), or a code and a reason of up to 123 bytes.
                    if (sizeIndex == 0)
                        builder.AddClose(CloseCodes.NoStatusReceived, "");
                    else
                        builder.AddClose((ushort)random.Next(3000, 5000), Text(random, Math.Min(SizeClasses[sizeIndex], CloseCodes.MaxReasonBytes)));
                }
                else if (opcode is WebSocketOpcode.Ping or WebSocketOpcode.Pong)
                {
                    builder.AddControl(opcode, StreamBuilder.RandomBytes(random, Math.Min(SizeClasses[sizeIndex], FrameHeader.MaxShortLength)));
                }
                else
                {
                    int size = SizeClasses[sizeIndex];
                    byte[] payload = opcode == WebSocketOpcode.Text ? Encoding.UTF8.GetBytes(Text(random, size)) : StreamBuilder.RandomBytes(random, size);
                    Assert.Equal(size, payload.Length);
                    if (fragments == 1)
                        builder.AddMessage(opcode, payload);
                    else
                        builder.AddFragmented(opcode, payload, fragments);
                }

                byte[] stream = builder.ToArray();
                var pool = new CountingBytePool(4096);
                var options = new ReaderOptions { ExpectMasked = server, Pool = pool };
                var sink = new RecordingSink();
                var reader = new WebSocketReader();
                var cuts = new Random(seed ^ 0x5bd1e995);
                ReadResult result = ReaderDriver.Feed(ref reader, stream, options, sink,
                    _ => cuts.Next(4) switch { 0 => 1, 1 => cuts.Next(2, 15), 2 => cuts.Next(15, 3000), _ => cuts.Next(3000, 400_000) });

                Assert.False(result.IsError, result.ToString());
                Assert.Equal(builder.Expected.Count, sink.Events.Count);
                for (int i = 0; i < builder.Expected.Count; i++)
                    Assert.True(builder.Expected[i].Matches(sink.Events[i]), $"event {i}: expected {builder.Expected[i]}, read {sink.Events[i]}");
                Assert.False(reader.HoldsBuffer);
                reader.Dispose();
                Assert.Equal(0, pool.Outstanding);
            }, iter: 300, threads: 1);
    }

    /// <summary>Valid UTF-8 of exactly <paramref name="bytes"/> bytes: mixed code points cut at a boundary, then ASCII.</summary>
    private static string Text(Random random, int bytes)
    {
        string text = Encoding.UTF8.GetString(StreamBuilder.RandomUtf8(random, bytes));
        var builder = new StringBuilder();
        int length = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (length + rune.Utf8SequenceLength > bytes)
                break;
            builder.Append(rune.ToString());
            length += rune.Utf8SequenceLength;
        }

        return builder.Append('a', bytes - length).ToString();
    }

    /// <summary>Frames of any opcode (the 16 of them), FIN, RSV bits now and then, a wrong MASK bit now and then, any
    /// length form; then, by <paramref name="corruption"/>, nothing, a flipped byte, a cut end or random bytes.</summary>
    internal static byte[] RandomStream(Random random, int frames, bool server, int corruption)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < frames; i++)
        {
            int kind = random.Next(10);
            var opcode = (WebSocketOpcode)(kind < 6 ? random.Next(3) : kind < 9 ? random.Next(8, 11) : random.Next(16));
            int length = random.Next(10) switch
            {
                < 6 => random.Next(126),
                < 9 => random.Next(126, 3000),
                _ => random.Next(65536, 80_000),
            };
            byte[] payload = opcode == WebSocketOpcode.Text || random.Next(4) == 0
                ? Encoding.UTF8.GetBytes(Text(random, length))
                : StreamBuilder.RandomBytes(random, length);
            bool masked = random.Next(20) == 0 ? !server : server;
            byte[] frame = new byte[FrameHeader.MaxLength + payload.Length];
            int written = FrameWriter.WriteFrame(frame, opcode, fin: random.Next(3) != 0, payload, masked ? (uint)random.Next() : null, rsv1: random.Next(10) == 0);
            if (random.Next(30) == 0)
                frame[0] |= 0x20;  // RSV2
            bytes.AddRange(frame.AsSpan(0, written));
        }

        switch (corruption)
        {
            case 1 when bytes.Count > 0:
                bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 2 when bytes.Count > 0:
                int end = random.Next(bytes.Count);
                bytes.RemoveRange(end, bytes.Count - end);
                break;
            case 3:
                bytes.AddRange(StreamBuilder.RandomBytes(random, random.Next(1, 40)));
                break;
        }

        return [.. bytes];
    }

    private static (List<SinkEvent> Events, ReadResult Result) Read(byte[] stream, ReaderOptions template, bool allowRsv1, Func<int, int> nextChunk)
    {
        var pool = new CountingBytePool(4096);
        var options = new ReaderOptions { ExpectMasked = template.ExpectMasked, MaxMessageSize = template.MaxMessageSize, Pool = pool };
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        if (allowRsv1)
            reader.AllowRsv1();
        ReadResult result = ReaderDriver.Feed(ref reader, stream, options, sink, nextChunk);
        if (result.IsError || reader.IsCloseReceived)
            Assert.False(reader.HoldsBuffer);
        reader.Dispose();
        Assert.Equal(0, pool.Outstanding);
        return (sink.Events, result);
    }
}
