using System.Runtime.CompilerServices;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class WebSocketReaderStreamTests
{
    public static TheoryData<int, string, bool> Chunkings()
    {
        var data = new TheoryData<int, string, bool>();
        foreach (int seed in new[] { 1, 2, 3, 4, 5 })
        {
            foreach (string chunking in new[] { "whole", "bytes", "tiny", "small", "large", "mixed" })
                data.Add(seed, chunking, true);
        }

        foreach (int seed in new[] { 11, 12 })
        {
            foreach (string chunking in new[] { "whole", "bytes", "mixed" })
                data.Add(seed, chunking, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Chunkings))]
    public void AnyChunkingGivesTheOriginalMessagesAndControls(int seed, string chunking, bool serverSide)
    {
        var random = new Random(seed);
        var builder = new StreamBuilder(random, masked: serverSide);
        for (int i = 0; i < 40; i++)
            builder.AddRandom();
        // Multi-byte code points cut between fragments, and empty fragments, in every stream.
        builder.AddFragmented(WebSocketOpcode.Text, StreamBuilder.RandomUtf8(random, 5000), 9);
        builder.AddFragmented(WebSocketOpcode.Binary, [], 3);
        builder.AddMessage(WebSocketOpcode.Text, []);
        builder.AddClose(1000, "bye \U0001F600");
        byte[] stream = builder.ToArray();

        var pool = new CountingBytePool(4096);
        var options = new ReaderOptions { ExpectMasked = serverSide, Pool = pool };
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        var cuts = new Random(seed * 7919 + chunking.Length);
        Func<int, int> next = chunking switch
        {
            "whole" => left => left,
            "bytes" => _ => 1,
            "tiny" => _ => cuts.Next(1, 17),
            "small" => _ => cuts.Next(1, 4097),
            "large" => _ => cuts.Next(1, 200_001),
            _ => _ => cuts.Next(4) switch { 0 => 1, 1 => cuts.Next(2, 15), 2 => cuts.Next(15, 3000), _ => cuts.Next(3000, 150_000) },
        };

        ReadResult result = ReaderDriver.Feed(ref reader, stream, options, sink, next);

        Assert.False(result.IsError, result.ToString());
        Assert.Equal(builder.Expected.Count, sink.Events.Count);
        for (int i = 0; i < builder.Expected.Count; i++)
            Assert.True(builder.Expected[i].Matches(sink.Events[i]), $"event {i}: expected {builder.Expected[i]}, got {sink.Events[i]}");
        Assert.True(reader.IsCloseReceived);
        Assert.False(reader.HoldsBuffer);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void WholeFramesInOneReadAreDeliveredInPlace()
    {
        var random = new Random(42);
        var builder = new StreamBuilder(random, masked: true);
        builder.AddMessage(WebSocketOpcode.Text, StreamBuilder.RandomUtf8(random, 300));
        builder.AddMessage(WebSocketOpcode.Binary, StreamBuilder.RandomBytes(random, 70_000));
        builder.AddControl(WebSocketOpcode.Ping, StreamBuilder.RandomBytes(random, 125));
        builder.AddControl(WebSocketOpcode.Pong, StreamBuilder.RandomBytes(random, 3));
        builder.AddClose(4000, "done");
        byte[] stream = builder.ToArray();

        var pool = new CountingBytePool(4096);
        var sink = new RecordingSink { Input = stream };
        var reader = new WebSocketReader();
        ReadResult result = reader.Read(stream, new ReaderOptions { Pool = pool }, ref sink);

        Assert.False(result.IsError);
        Assert.Equal(5, sink.Events.Count);
        Assert.All(sink.InInput, Assert.True);
        for (int i = 0; i < builder.Expected.Count; i++)
            Assert.True(builder.Expected[i].Matches(sink.Events[i]));
        Assert.Equal(0, pool.Gets);
    }

    [Fact]
    public void RfcExampleFramesAreRead()
    {
        // RFC 6455 section 5.7: "Hello" unmasked, masked, and split into two fragments.
        byte[] unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        byte[] masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        byte[] fragmented = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];

        var client = new ReaderOptions { ExpectMasked = false };
        foreach ((byte[] stream, ReaderOptions options) in new[] { (unmasked, client), (masked, new ReaderOptions()), (fragmented, client) })
        {
            var sink = new RecordingSink();
            var reader = new WebSocketReader();
            Assert.False(ReaderDriver.FeedBytewise(ref reader, stream, options, sink).IsError);
            Assert.Equal("Text", Assert.Single(sink.Events).Kind);
            Assert.Equal("Hello"u8.ToArray(), sink.Events[0].Payload);
        }
    }

    [Fact]
    public void SteadyStateReadingAllocatesNothing()
    {
        var random = new Random(9);
        var builder = new StreamBuilder(random, masked: true);
        builder.AddMessage(WebSocketOpcode.Text, StreamBuilder.RandomUtf8(random, 1000));
        builder.AddFragmented(WebSocketOpcode.Binary, StreamBuilder.RandomBytes(random, 3000), 4);
        builder.AddMessage(WebSocketOpcode.Binary, StreamBuilder.RandomBytes(random, 100_000));
        builder.AddControl(WebSocketOpcode.Ping, [1, 2, 3]);
        byte[] stream = builder.ToArray();
        byte[] receive = new byte[stream.Length];
        var options = new ReaderOptions { Pool = new CountingBytePool(4096) };
        var reader = new WebSocketReader();
        var sink = new CountingSink();

        ReadAll(ref reader, stream, receive, options, ref sink);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
            ReadAll(ref reader, stream, receive, options, ref sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        int messages = builder.Expected.Count(e => e.Kind is "Text" or "Binary");
        Assert.Equal(21 * messages, sink.Messages);
        Assert.Equal(21 * (builder.Expected.Count - messages), sink.Controls);
    }

    [Fact]
    public void IdleReaderIsSmallAndOwnsNoBuffer()
    {
        Assert.True(Unsafe.SizeOf<WebSocketReader>() < 100, $"{Unsafe.SizeOf<WebSocketReader>()} bytes");
        Assert.False(new WebSocketReader().HoldsBuffer);
    }

    /// <summary>Reads the stream in chunks of 997 bytes, so that frames are split, through a reused buffer.</summary>
    private static void ReadAll(ref WebSocketReader reader, byte[] stream, byte[] receive, ReaderOptions options, ref CountingSink sink)
    {
        stream.CopyTo(receive, 0);
        for (int position = 0; position < stream.Length; position += 997)
        {
            int length = Math.Min(997, stream.Length - position);
            ReadResult result = reader.Read(receive.AsSpan(position, length), options, ref sink);
            if (result.IsError)
                throw new InvalidOperationException(result.ToString());
        }
    }
}
