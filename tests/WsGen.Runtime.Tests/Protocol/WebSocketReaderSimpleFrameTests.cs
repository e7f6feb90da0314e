using System.Buffers.Binary;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

/// <summary>
/// The reader's short path for a whole, final, masked Text or Binary frame against its general path: the same input
/// given whole (the short path takes what it can) and one byte per read (the general path takes all) gives the same
/// sink calls and the same error, at every edge the short path checks.
/// </summary>
public class WebSocketReaderSimpleFrameTests
{
    private const uint Key = 0x1B2C3D4E;

    private static byte[] Frame(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload, uint? key = Key)
    {
        byte[] frame = new byte[FrameWriter.HeaderSize(payload.Length, key.HasValue) + payload.Length];
        FrameWriter.WriteFrame(frame, opcode, fin, payload, key);
        return frame;
    }

    private static byte[] Text(int length) => Enumerable.Range(0, length).Select(i => (byte)('a' + i % 26)).ToArray();

    private static byte[] Binary(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 13 + 5)).ToArray();

    /// <summary>A 16-bit length written for a payload that fits the 7-bit form (not the minimal encoding).</summary>
    private static byte[] NonMinimal16(int length)
    {
        byte[] payload = Binary(length);
        byte[] frame = new byte[8 + length];
        frame[0] = 0x82;
        frame[1] = 0x80 | 126;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Key);
        payload.CopyTo(frame, 8);
        Masking.Unmask(frame.AsSpan(8), Key, 0);
        return frame;
    }

    public static TheoryData<string, byte[], long> Streams()
    {
        byte[] rsv = Frame(WebSocketOpcode.Binary, true, Binary(10));
        rsv[0] |= 0x20;
        return new TheoryData<string, byte[], long>
        {
            { "empty text", Frame(WebSocketOpcode.Text, true, []), 1000 },
            { "125-byte text", Frame(WebSocketOpcode.Text, true, Text(125)), 1000 },
            { "126-byte binary (16-bit length)", Frame(WebSocketOpcode.Binary, true, Binary(126)), 1000 },
            { "65535-byte binary", Frame(WebSocketOpcode.Binary, true, Binary(65535)), 100_000 },
            { "65536-byte binary (64-bit length)", Frame(WebSocketOpcode.Binary, true, Binary(65536)), 100_000 },
            { "several frames back to back", [.. Frame(WebSocketOpcode.Text, true, Text(3)), .. Frame(WebSocketOpcode.Binary, true, Binary(300)), .. Frame(WebSocketOpcode.Ping, true, Binary(4)), .. Frame(WebSocketOpcode.Text, true, Text(40))], 1000 },
            { "a fragment then its continuation", [.. Frame(WebSocketOpcode.Text, false, Text(5)), .. Frame(WebSocketOpcode.Continuation, true, Text(7)), .. Frame(WebSocketOpcode.Text, true, Text(2))], 1000 },
            { "text with a code point", Frame(WebSocketOpcode.Text, true, "h\u00e9llo \u20ac"u8), 1000 },
            { "invalid UTF-8 text", Frame(WebSocketOpcode.Text, true, [(byte)'a', 0xC3, 0x28, (byte)'b']), 1000 },
            { "invalid UTF-8 after a good message", [.. Frame(WebSocketOpcode.Text, true, Text(4)), .. Frame(WebSocketOpcode.Text, true, [0xFF])], 1000 },
            { "exactly the size limit", Frame(WebSocketOpcode.Binary, true, Binary(100)), 100 },
            { "one byte over the size limit", Frame(WebSocketOpcode.Binary, true, Binary(101)), 100 },
            { "over the limit in the 16-bit form", Frame(WebSocketOpcode.Text, true, Text(300)), 299 },
            { "a non-minimal 16-bit length", NonMinimal16(100), 1000 },
            { "an unmasked frame", Frame(WebSocketOpcode.Binary, true, Binary(10), key: null), 1000 },
            { "RSV2 set", rsv, 1000 },
        };
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void WholeAndBytewiseReadsAgree(string name, byte[] stream, long maxMessageSize)
    {
        var options = new ReaderOptions { MaxMessageSize = maxMessageSize };

        var whole = new RecordingSink();
        var reader = new WebSocketReader();
        ReadResult wholeResult = reader.Read((byte[])stream.Clone(), options, ref whole);
        reader.Dispose();

        var bytewise = new RecordingSink();
        reader = new WebSocketReader();
        byte[] copy = (byte[])stream.Clone();
        ReadResult bytewiseResult = default;
        for (int i = 0; i < copy.Length && !bytewiseResult.IsError; i++)
            bytewiseResult = reader.Read(copy.AsSpan(i, 1), options, ref bytewise);
        reader.Dispose();

        Assert.Equal(bytewiseResult.Error, wholeResult.Error);
        Assert.Equal(bytewise.Events.Count, whole.Events.Count);
        for (int i = 0; i < whole.Events.Count; i++)
            Assert.True(bytewise.Events[i].Matches(whole.Events[i]), $"{name}: event {i}: {whole.Events[i]} vs {bytewise.Events[i]}");
    }

    [Fact]
    public void AWholeSmallMessageIsDeliveredFromTheCallersBuffer()
    {
        byte[] stream = [.. Frame(WebSocketOpcode.Text, true, Text(32)), .. Frame(WebSocketOpcode.Binary, true, Binary(16384))];
        var sink = new RecordingSink { Input = stream };
        var reader = new WebSocketReader();

        Assert.False(reader.Read(stream, new ReaderOptions(), ref sink).IsError);

        Assert.Equal([true, true], sink.InInput);
        Assert.True(sink.Events[0].Matches(SinkEvent.Message(WebSocketOpcode.Text, Text(32))));
        Assert.True(sink.Events[1].Matches(SinkEvent.Message(WebSocketOpcode.Binary, Binary(16384))));
        Assert.False(reader.HoldsBuffer);
    }
}
