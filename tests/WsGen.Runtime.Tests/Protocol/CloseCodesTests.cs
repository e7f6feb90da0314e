using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class CloseCodesTests
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(999, false)]
    [InlineData(1000, true)]
    [InlineData(1001, true)]
    [InlineData(1002, true)]
    [InlineData(1003, true)]
    [InlineData(1004, false)]
    [InlineData(1005, false)]
    [InlineData(1006, false)]
    [InlineData(1007, true)]
    [InlineData(1011, true)]
    [InlineData(1014, true)]
    [InlineData(1015, false)]
    [InlineData(1016, false)]
    [InlineData(2999, false)]
    [InlineData(3000, true)]
    [InlineData(4999, true)]
    [InlineData(5000, false)]
    [InlineData(65535, false)]
    public void ValidCodesOnTheWire(int code, bool valid)
    {
        Assert.Equal(valid, CloseCodes.IsValidReceived((ushort)code));
    }

    [Theory]
    [InlineData("", 0, 1005, "")]
    [InlineData("03", 1002, -1, "")]
    [InlineData("03E8", 0, 1000, "")]
    [InlineData("03E8627965", 0, 1000, "bye")]
    [InlineData("0FA0C3A9", 0, 4000, "\u00e9")]
    [InlineData("03EBEFBFBE", 0, 1003, "\uFFFE")]
    [InlineData("03ED", 1002, -1, "")]
    [InlineData("03EE627965", 1002, -1, "")]
    [InlineData("0000", 1002, -1, "")]
    [InlineData("1388", 1002, -1, "")]
    [InlineData("03E8FF", 1007, -1, "")]
    [InlineData("03E861EDA080", 1007, -1, "")]
    [InlineData("03E8E282", 1007, -1, "")]
    public void ParsesClosePayloads(string hex, int expectedResult, int code, string reason)
    {
        var expected = (CloseParseResult)expectedResult;  // 0 or the close code to fail with
        CloseParseResult result = CloseCodes.ParseClosePayload(Convert.FromHexString(hex), out ushort parsedCode, out ReadOnlySpan<byte> parsedReason);

        Assert.Equal(expected, result);
        if (expected == CloseParseResult.Ok)
        {
            Assert.Equal(code, parsedCode);
            Assert.Equal(reason, Encoding.UTF8.GetString(parsedReason));
        }
    }

    [Fact]
    public void WritesCodeAndReason()
    {
        byte[] dest = new byte[200];
        int written = CloseCodes.WriteClosePayload(dest, 1001, "going away");
        Assert.Equal("03E9" + Convert.ToHexString("going away"u8), Convert.ToHexString(dest, 0, written));
    }

    [Fact]
    public void NoStatusWritesAnEmptyBody()
    {
        Assert.Equal(0, CloseCodes.WriteClosePayload(new byte[200], 1005, "ignored"));
    }

    [Theory]
    [InlineData(1004)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(999)]
    [InlineData(5000)]
    public void RefusesCodesThatMayNotBeSent(int code)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CloseCodes.WriteClosePayload(new byte[200], (ushort)code, ""));
    }

    [Theory]
    [InlineData("a", 200, 123, 123)]        // 200 ASCII: the first 123
    [InlineData("\u00e9", 62, 61, 122)]     // 124 bytes of 2-byte chars: 61 chars, not half of the 62nd
    [InlineData("\u20ac", 41, 41, 123)]     // exactly 123 bytes
    [InlineData("\u20ac", 42, 41, 123)]
    [InlineData("\U0001F600", 31, 30, 120)] // 124 bytes of 4-byte chars: 30, the surrogate pair kept whole
    public void TruncatesTheReasonAtACharacterBoundary(string unit, int repeat, int keptUnits, int reasonBytes)
    {
        string reason = string.Concat(Enumerable.Repeat(unit, repeat));
        byte[] dest = new byte[300];

        int written = CloseCodes.WriteClosePayload(dest, 1000, reason);

        Assert.Equal(2 + reasonBytes, written);
        Assert.Equal(string.Concat(Enumerable.Repeat(unit, keptUnits)), Encoding.UTF8.GetString(dest, 2, written - 2));
        Assert.Equal(CloseParseResult.Ok, CloseCodes.ParseClosePayload(dest.AsSpan(0, written), out ushort code, out _));
        Assert.Equal(1000, code);
    }
}
