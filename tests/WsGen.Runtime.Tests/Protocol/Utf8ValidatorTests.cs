using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class Utf8ValidatorTests
{
    /// <summary>Hex bytes, whether they are valid UTF-8, and the index of the byte at which the text can no longer
    /// become valid (-1: every prefix can).</summary>
    public static TheoryData<string, bool, int> Table() => new()
    {
        { "", true, -1 },
        { "48656C6C6F", true, -1 },
        { "00", true, -1 },
        { "7F", true, -1 },
        { "C2A9", true, -1 },              // U+00A9
        { "DFBF", true, -1 },              // U+07FF
        { "E0A080", true, -1 },            // U+0800
        { "E282AC", true, -1 },            // U+20AC
        { "ED9FBF", true, -1 },            // U+D7FF, the last before the surrogates
        { "EE8080", true, -1 },            // U+E000, the first after them
        { "EFB790", true, -1 },            // U+FDD0, a noncharacter
        { "EFBFBE", true, -1 },            // U+FFFE, a noncharacter
        { "EFBFBF", true, -1 },            // U+FFFF, a noncharacter
        { "F0908080", true, -1 },          // U+10000
        { "F09F9880", true, -1 },          // U+1F600
        { "F48FBFBF", true, -1 },          // U+10FFFF
        { "41C3A9E282ACF09F9880", true, -1 },
        { "C080", false, 0 },              // overlong NUL
        { "C1BF", false, 0 },              // overlong
        { "E08080", false, 1 },            // overlong 3-byte
        { "E09FBF", false, 1 },            // overlong U+07FF
        { "F0808080", false, 1 },          // overlong 4-byte
        { "F08FBFBF", false, 1 },          // overlong U+FFFF
        { "EDA080", false, 1 },            // U+D800
        { "EDBFBF", false, 1 },            // U+DFFF
        { "F4908080", false, 1 },          // U+110000
        { "F5808080", false, 0 },
        { "F8", false, 0 },
        { "FE", false, 0 },
        { "FF", false, 0 },
        { "80", false, 0 },                // lone continuation
        { "41BF42", false, 1 },
        { "C2A980", false, 2 },            // one continuation too many
        { "C241", false, 1 },              // lead then ASCII
        { "E28241", false, 2 },
        { "F09F98F0", false, 3 },
        { "C2", false, -1 },               // cut at the end
        { "E282", false, -1 },
        { "F09F98", false, -1 },
        { "41C3A9E282ACF09F98", false, -1 },
        { "F09F9880F4908080", false, 5 },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void WholeBuffer(string hex, bool valid, int failIndex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        var validator = new Utf8Validator();

        Assert.Equal(failIndex < 0, validator.Append(bytes));
        Assert.Equal(valid, validator.Complete());
        Assert.Equal(valid, Utf8Validator.IsValid(bytes));
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void ByteByByteFailsAtTheFirstImpossibleByte(string hex, bool valid, int failIndex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        var validator = new Utf8Validator();
        int failedAt = -1;
        for (int i = 0; i < bytes.Length && failedAt < 0; i++)
        {
            if (!validator.Append(bytes.AsSpan(i, 1)))
                failedAt = i;
        }

        Assert.Equal(failIndex, failedAt);
        Assert.Equal(valid, validator.Complete());
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void EveryThreeWaySplitGivesTheSameVerdict(string hex, bool valid, int failIndex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        for (int a = 0; a <= bytes.Length; a++)
        {
            for (int b = a; b <= bytes.Length; b++)
            {
                var validator = new Utf8Validator();
                bool ok = validator.Append(bytes.AsSpan(0, a));
                Assert.Equal(failIndex < 0 || failIndex >= a, ok);
                ok = validator.Append(bytes.AsSpan(a, b - a)) && ok;
                Assert.Equal(failIndex < 0 || failIndex >= b, ok);
                ok = validator.Append(bytes.AsSpan(b)) && ok;
                Assert.Equal(failIndex < 0, ok);
                Assert.Equal(valid, validator.Complete());
            }
        }
    }

    [Fact]
    public void StaysFailedUntilReset()
    {
        var validator = new Utf8Validator();
        Assert.False(validator.Append([0xFF]));
        Assert.False(validator.Append("fine"u8));
        Assert.False(validator.Complete());

        validator.Reset();
        Assert.True(validator.Append("fine"u8));
        Assert.True(validator.Complete());
    }

    [Fact]
    public void AgreesWithTheBclOnRandomBytesInRandomChunks()
    {
        var random = new Random(23);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        byte[] alphabet = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF];
        for (int round = 0; round < 5000; round++)
        {
            byte[] bytes = round % 2 == 0
                ? StreamBuilder.RandomUtf8(random, random.Next(40))
                : Enumerable.Range(0, random.Next(12)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray();
            if (round % 4 == 0 && bytes.Length > 0)
                bytes[random.Next(bytes.Length)] = alphabet[random.Next(alphabet.Length)];

            bool expected = true;
            try { strict.GetString(bytes); } catch (DecoderFallbackException) { expected = false; }

            var validator = new Utf8Validator();
            int position = 0;
            bool appended = true;
            while (position < bytes.Length)
            {
                int length = random.Next(1, bytes.Length - position + 1);
                appended &= validator.Append(bytes.AsSpan(position, length));
                position += length;
            }

            Assert.True(expected == (appended && validator.Complete()), Convert.ToHexString(bytes));
            // Fail fast: a failed Append means no continuation could have made the text valid.
            if (!appended)
                Assert.False(IsValidPrefix(bytes), Convert.ToHexString(bytes));
        }
    }

    [Fact]
    public void InvalidByteInALargeTextFailsInTheChunkThatHoldsIt()
    {
        var random = new Random(31);
        for (int round = 0; round < 50; round++)
        {
            byte[] text = StreamBuilder.RandomUtf8(random, 20_000);
            int bad = random.Next(text.Length);
            text[bad] = 0xFF;
            var validator = new Utf8Validator();
            int position = 0;
            while (true)
            {
                int length = Math.Min(random.Next(1, 3000), text.Length - position);
                bool ok = validator.Append(text.AsSpan(position, length));
                bool holdsBad = bad >= position && bad < position + length;
                Assert.Equal(!holdsBad, ok);
                position += length;
                if (holdsBad)
                    break;
            }
        }
    }

    /// <summary>Reference: true when some continuation makes <paramref name="bytes"/> valid, by the BCL's decoder,
    /// which reports NeedMoreData only for a valid incomplete sequence.</summary>
    private static bool IsValidPrefix(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            switch (Rune.DecodeFromUtf8(bytes, out _, out int consumed))
            {
                case System.Buffers.OperationStatus.Done:
                    bytes = bytes.Slice(consumed);
                    break;
                case System.Buffers.OperationStatus.NeedMoreData:
                    return true;
                default:
                    return false;
            }
        }

        return true;
    }
}
