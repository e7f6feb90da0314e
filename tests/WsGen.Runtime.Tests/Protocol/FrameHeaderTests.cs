using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class FrameHeaderTests
{
    public static TheoryData<long, bool, string> Lengths() => new()
    {
        { 0L, false, "8200" },
        { 125L, false, "827D" },
        { 126L, false, "827E007E" },
        { 65535L, false, "827EFFFF" },
        { 65536L, false, "827F0000000000010000" },
        { 1L << 32, false, "827F0000000100000000" },
        { long.MaxValue, false, "827F7FFFFFFFFFFFFFFF" },
        { 0L, true, "8280D4C3B2A1" },
        { 125L, true, "82FDD4C3B2A1" },
        { 126L, true, "82FE007ED4C3B2A1" },
        { 65535L, true, "82FEFFFFD4C3B2A1" },
        { 65536L, true, "82FF0000000000010000D4C3B2A1" },
        { 1L << 32, true, "82FF0000000100000000D4C3B2A1" },
    };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void WriteAndParseRoundTrip(long length, bool masked, string expectedHex)
    {
        uint? key = masked ? 0xA1B2C3D4 : null;
        byte[] dest = new byte[FrameHeader.MaxLength];

        int written = FrameWriter.WriteHeader(dest, WebSocketOpcode.Binary, fin: true, length, key);

        Assert.Equal(expectedHex, Convert.ToHexString(dest, 0, written));
        Assert.Equal(written, FrameWriter.HeaderSize(length, masked));
        Assert.Equal(HeaderParseStatus.Ok, FrameHeader.TryParse(dest.AsSpan(0, written), out FrameHeader header));
        Assert.Equal((true, (byte)0, WebSocketOpcode.Binary, masked, key ?? 0u, length, written),
            (header.Fin, header.Rsv, header.Opcode, header.Masked, header.MaskKey, header.PayloadLength, header.HeaderLength));

        for (int prefix = 0; prefix < written; prefix++)
            Assert.Equal(HeaderParseStatus.NeedMore, FrameHeader.TryParse(dest.AsSpan(0, prefix), out _));
    }

    [Theory]
    [InlineData("817E007D", false)]
    [InlineData("817E0000", false)]
    [InlineData("817F000000000000FFFF", false)]
    [InlineData("817F000000000000007D", false)]
    [InlineData("817F8000000000000000", true)]
    [InlineData("817FFFFFFFFFFFFFFFFF", true)]
    [InlineData("81FE007D", false)]  // reported before the mask key arrives
    public void RejectsBadLengthEncodings(string hex, bool topBitSet)
    {
        HeaderParseStatus expected = topBitSet ? HeaderParseStatus.InvalidLength : HeaderParseStatus.NonMinimalLength;
        Assert.Equal(expected, FrameHeader.TryParse(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void ReadsFlagsOpcodeAndRsvBits()
    {
        Assert.Equal(HeaderParseStatus.Ok, FrameHeader.TryParse([0x79, 0x00], out FrameHeader header));
        Assert.False(header.Fin);
        Assert.Equal(7, header.Rsv);
        Assert.Equal(WebSocketOpcode.Ping, header.Opcode);
        Assert.True(header.IsControl);
        Assert.Equal(0, header.PayloadLength);
    }

    [Fact]
    public void WriteFrameMasksACopyOfThePayload()
    {
        // RFC 6455 section 5.7: a masked "Hello".
        byte[] payload = "Hello"u8.ToArray();
        byte[] dest = new byte[32];

        int written = FrameWriter.WriteFrame(dest, WebSocketOpcode.Text, fin: true, payload, 0x3D21FA37);

        Assert.Equal("8185" + "37FA213D" + "7F9F4D5158", Convert.ToHexString(dest, 0, written));
        Assert.Equal("Hello"u8.ToArray(), payload);
    }

    [Fact]
    public void WriteFrameUnmaskedAndFragments()
    {
        byte[] dest = new byte[32];
        int written = FrameWriter.WriteFrame(dest, WebSocketOpcode.Text, fin: false, "Hel"u8);
        Assert.Equal("010348656C", Convert.ToHexString(dest, 0, written));
        written = FrameWriter.WriteFrame(dest, WebSocketOpcode.Continuation, fin: true, "lo"u8);
        Assert.Equal("80026C6F", Convert.ToHexString(dest, 0, written));
    }

    [Fact]
    public void WriteCloseWritesCodeAndReason()
    {
        byte[] dest = new byte[140];
        int written = FrameWriter.WriteClose(dest, 1000, "ok");
        Assert.Equal("880403E86F6B", Convert.ToHexString(dest, 0, written));

        written = FrameWriter.WriteClose(dest, 1005, "", maskKey: 0x01020304);
        Assert.Equal("888004030201", Convert.ToHexString(dest, 0, written));

        written = FrameWriter.WriteClose(dest, 4000, new string('x', 500));
        Assert.Equal(2 + 125, written);
    }

    [Fact]
    public void WriterRefusesATooSmallDestination()
    {
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteHeader(new byte[3], WebSocketOpcode.Binary, true, 126));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteFrame(new byte[6], WebSocketOpcode.Binary, true, new byte[5]));
    }
}

public class WebSocketFramesTests
{
    [Fact]
    public void CreateWritesTheServerHeader()
    {
        byte[] payload = new byte[300];
        WebSocketFrame frame = WebSocketFrames.Create(WebSocketOpcode.Binary, payload, fin: false);

        Assert.Equal("027E012C", Convert.ToHexString(frame.Header.Span));
        Assert.Equal(WebSocketOpcode.Binary, frame.Opcode);
        Assert.False(frame.IsFinal);
        Assert.Equal(300, frame.Payload.Length);
    }

    [Fact]
    public void CreateRefusesBadControlFramesAndOpcodes()
    {
        Assert.Throws<ArgumentException>(() => WebSocketFrames.Create(WebSocketOpcode.Ping, new byte[126]));
        Assert.Throws<ArgumentException>(() => WebSocketFrames.Create(WebSocketOpcode.Close, new byte[2], fin: false));
        Assert.Throws<ArgumentException>(() => WebSocketFrames.Create((WebSocketOpcode)3, new byte[1]));
    }

    [Fact]
    public void ReleaseReturnsThePooledBuffer()
    {
        var pool = new CountingBytePool(64);
        Memory<byte> buffer = pool.Get();
        WebSocketFrame frame = WebSocketFrames.Create(WebSocketOpcode.Text, buffer[..5], pool: pool, pooledBuffer: buffer);

        frame.Release();

        Assert.Equal(0, pool.Outstanding);
    }
}
