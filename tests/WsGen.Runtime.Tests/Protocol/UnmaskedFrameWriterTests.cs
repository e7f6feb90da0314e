using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

/// <summary>The server's per-message frame writer (<see cref="FrameWriter.WriteUnmaskedFrame"/>) against the wire
/// format of RFC 6455 section 5.2, and against the general writer for every length form.</summary>
public class UnmaskedFrameWriterTests
{
    public static TheoryData<int, string> Headers() => new()
    {
        { 0, "81" + "00" },
        { 1, "81" + "01" },
        { 125, "81" + "7D" },
        { 126, "81" + "7E007E" },
        { 65535, "81" + "7EFFFF" },
        { 65536, "81" + "7F0000000000010000" },
        { 70_000, "81" + "7F0000000000011170" },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void WritesTheMinimalHeaderThenThePayload(int length, string expectedHeaderHex)
    {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++)
            payload[i] = (byte)(i * 31 + 7);
        int headerSize = FrameWriter.UnmaskedHeaderSize(length);
        byte[] frame = new byte[headerSize + length];

        FrameWriter.WriteUnmaskedFrame(frame, WebSocketOpcode.Text, fin: true, payload);

        Assert.Equal(expectedHeaderHex, Convert.ToHexString(frame, 0, headerSize));
        Assert.True(frame.AsSpan(headerSize).SequenceEqual(payload));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void MatchesTheGeneralWriterForEveryOpcodeAndFin(int length)
    {
        byte[] payload = new byte[length];
        new Random(length).NextBytes(payload);
        foreach (var opcode in new[] { WebSocketOpcode.Continuation, WebSocketOpcode.Text, WebSocketOpcode.Binary, WebSocketOpcode.Ping, WebSocketOpcode.Pong })
        {
            foreach (bool fin in new[] { true, false })
            {
                byte[] expected = new byte[length + FrameHeader.MaxLength];
                int n = FrameWriter.WriteFrame(expected, opcode, fin, payload);
                byte[] actual = new byte[FrameWriter.UnmaskedHeaderSize(length) + length];

                FrameWriter.WriteUnmaskedFrame(actual, opcode, fin, payload);

                Assert.Equal(n, actual.Length);
                Assert.True(expected.AsSpan(0, n).SequenceEqual(actual), $"{opcode} fin={fin} length={length}");
            }
        }
    }

    [Fact]
    public void TheHeaderAloneMatchesTheFramesHeader()
    {
        byte[] header = new byte[FrameWriter.UnmaskedHeaderSize(300)];

        FrameWriter.WriteUnmaskedHeader(header, WebSocketOpcode.Binary, fin: false, 300);

        Assert.Equal("027E012C", Convert.ToHexString(header));
    }
}
