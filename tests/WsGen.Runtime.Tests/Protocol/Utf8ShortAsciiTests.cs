using System.Text.Unicode;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

/// <summary>The inline check of short ASCII text in front of <see cref="Utf8Validator.IsValid"/>: every length up to
/// past its limit, a non-ASCII byte at every position, and agreement with the BCL's validator on random text.</summary>
public class Utf8ShortAsciiTests
{
    [Fact]
    public void AsciiUpToTheLimitIsRecognizedAndLongerTextIsLeftToTheFullCheck()
    {
        for (int length = 0; length <= Utf8Validator.ShortAsciiLimit + 20; length++)
        {
            byte[] text = new byte[length];
            for (int i = 0; i < length; i++)
                text[i] = (byte)(0x20 + (i * 7 % 0x5F));

            Assert.Equal(length <= Utf8Validator.ShortAsciiLimit, Utf8Validator.IsShortAscii(text));
            Assert.True(Utf8Validator.IsValid(text), $"length {length}");
        }
    }

    [Fact]
    public void OneNonAsciiByteAnywhereIsSeen()
    {
        for (int length = 1; length <= Utf8Validator.ShortAsciiLimit; length++)
        {
            for (int at = 0; at < length; at++)
            {
                foreach (byte high in new byte[] { 0x80, 0xC3, 0xFF })
                {
                    byte[] text = new byte[length];
                    text.AsSpan().Fill((byte)'a');
                    text[at] = high;

                    Assert.False(Utf8Validator.IsShortAscii(text), $"length {length}, 0x{high:X2} at {at}");
                    Assert.False(Utf8Validator.IsValid(text), $"length {length}, 0x{high:X2} at {at}");
                }
            }
        }
    }

    [Fact]
    public void AgreesWithTheBclOnRandomShortText()
    {
        var random = new Random(17);
        for (int round = 0; round < 20_000; round++)
        {
            byte[] text = new byte[random.Next(0, 90)];
            for (int i = 0; i < text.Length; i++)
                text[i] = random.Next(4) == 0 ? (byte)random.Next(0x80, 0x100) : (byte)random.Next(0, 0x80);
            if (random.Next(2) == 0 && text.Length >= 2)
            {
                // A valid two-byte sequence (U+00E9) somewhere, so that valid non-ASCII text is covered too.
                int at = random.Next(text.Length - 1);
                text[at] = 0xC3;
                text[at + 1] = 0xA9;
            }

            Assert.Equal(Utf8.IsValid(text), Utf8Validator.IsValid(text));
        }
    }
}
