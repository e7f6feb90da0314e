using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class WebSocketReaderBufferTests
{
    private static byte[] Frame(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[FrameWriter.HeaderSize(payload.Length, true) + payload.Length];
        FrameWriter.WriteFrame(frame, opcode, fin, payload, 0x12345678);
        return frame;
    }

    [Fact]
    public void SplitFrameBorrowsOnePoolBufferAndReturnsItOnDelivery()
    {
        var pool = new CountingBytePool(1024);
        var options = new ReaderOptions { Pool = pool };
        byte[] payload = StreamBuilder.RandomBytes(new Random(1), 700);
        byte[] frame = Frame(WebSocketOpcode.Binary, true, payload);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        Assert.False(reader.Read(frame.AsSpan(0, 300), options, ref sink).IsError);
        Assert.True(reader.HoldsBuffer);
        Assert.Equal(1, pool.Outstanding);

        Assert.False(reader.Read(frame.AsSpan(300), options, ref sink).IsError);
        Assert.False(reader.HoldsBuffer);
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(1, pool.Gets);
        Assert.Equal(payload, Assert.Single(sink.Events).Payload);
    }

    [Fact]
    public void SplitHeaderAloneBorrowsNothing()
    {
        var pool = new CountingBytePool(1024);
        var options = new ReaderOptions { Pool = pool };
        byte[] frame = Frame(WebSocketOpcode.Binary, true, new byte[70_000]);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        for (int i = 0; i < 13; i++)
            Assert.False(reader.Read(frame.AsSpan(i, 1), options, ref sink).IsError);

        Assert.False(reader.HoldsBuffer);
        Assert.Equal(0, pool.Gets);
    }

    [Fact]
    public void DisposeReturnsTheBufferOfAPartialFrame()
    {
        var pool = new CountingBytePool(1024);
        var options = new ReaderOptions { Pool = pool };
        byte[] frame = Frame(WebSocketOpcode.Text, true, "hello world"u8);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        reader.Read(frame.AsSpan(0, 10), options, ref sink);
        Assert.Equal(1, pool.Outstanding);
        reader.Dispose();

        Assert.Equal(0, pool.Outstanding);
        Assert.False(reader.HoldsBuffer);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void FragmentedMessageHoldsItsBufferUntilTheLastFragment()
    {
        var pool = new CountingBytePool(1024);
        var options = new ReaderOptions { Pool = pool };
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        Assert.False(reader.Read(Frame(WebSocketOpcode.Text, false, "one "u8), options, ref sink).IsError);
        Assert.False(reader.Read(Frame(WebSocketOpcode.Ping, true, "p"u8), options, ref sink).IsError);
        Assert.True(reader.HoldsBuffer);
        Assert.False(reader.Read(Frame(WebSocketOpcode.Continuation, false, "two "u8), options, ref sink).IsError);
        Assert.Equal(1, pool.Outstanding);
        Assert.False(reader.Read(Frame(WebSocketOpcode.Continuation, true, "three"u8), options, ref sink).IsError);

        Assert.False(reader.HoldsBuffer);
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(["Ping", "Text"], sink.Events.Select(e => e.Kind));
        Assert.Equal("one two three"u8.ToArray(), sink.Events[1].Payload);
    }

    [Fact]
    public void SplitControlFrameBetweenFragmentsKeepsTheMessage()
    {
        var pool = new CountingBytePool(64);
        var options = new ReaderOptions { Pool = pool };
        byte[] first = StreamBuilder.RandomBytes(new Random(5), 50);
        byte[] ping = StreamBuilder.RandomBytes(new Random(6), 125);
        byte[] stream = [.. Frame(WebSocketOpcode.Binary, false, first), .. Frame(WebSocketOpcode.Ping, true, ping), .. Frame(WebSocketOpcode.Continuation, true, "end"u8)];
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        Assert.False(ReaderDriver.Feed(ref reader, stream, options, sink, _ => 7).IsError);

        Assert.Equal(["Ping", "Binary"], sink.Events.Select(e => e.Kind));
        Assert.Equal(ping, sink.Events[0].Payload);
        Assert.Equal([.. first, .. "end"u8], sink.Events[1].Payload);
        Assert.False(reader.HoldsBuffer);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void FrameLargerThanThePoolBufferIsRentedElsewhereAndReleased()
    {
        var pool = new CountingBytePool(1024);
        var options = new ReaderOptions { Pool = pool };
        byte[] payload = StreamBuilder.RandomBytes(new Random(2), 250_000);
        byte[] frame = Frame(WebSocketOpcode.Binary, true, payload);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        Assert.False(reader.Read(frame.AsSpan(0, 5000), options, ref sink).IsError);
        Assert.True(reader.HoldsBuffer);
        Assert.False(ReaderDriver.Feed(ref reader, frame[5000..], options, sink, _ => 70_000).IsError);

        Assert.False(reader.HoldsBuffer);
        Assert.Equal(0, pool.Gets);
        Assert.Equal(payload, Assert.Single(sink.Events).Payload);
    }

    [Fact]
    public void ErrorMidFrameReturnsTheBuffer()
    {
        var pool = new CountingBytePool(1024);
        var options = new ReaderOptions { Pool = pool };
        byte[] frame = Frame(WebSocketOpcode.Text, true, [0x61, 0x62, 0x63, 0xC3, 0x28, 0x64]);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        Assert.False(reader.Read(frame.AsSpan(0, 9), options, ref sink).IsError);  // header and "abc"
        Assert.Equal(1, pool.Outstanding);
        Assert.True(reader.Read(frame.AsSpan(9), options, ref sink).IsError);

        Assert.Equal(0, pool.Outstanding);
        Assert.False(reader.HoldsBuffer);
    }
}
