using System.Buffers.Binary;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class MaskingTests
{
    /// <summary>RFC 6455 section 5.3, byte by byte.</summary>
    private static void ReferenceMask(Span<byte> data, byte[] key, int offset)
    {
        for (int i = 0; i < data.Length; i++)
            data[i] ^= key[(i + offset) % 4];
    }

    [Fact]
    public void MatchesTheScalarDefinitionForEveryLengthOffsetAndAlignment()
    {
        var random = new Random(17);
        byte[] key = new byte[4];
        for (int length = 0; length <= 300; length++)
        {
            for (int offset = 0; offset < 4; offset++)
            {
                int start = random.Next(4);  // unaligned starts too
                random.NextBytes(key);
                uint maskKey = BinaryPrimitives.ReadUInt32LittleEndian(key);  // the key bytes as read from the wire
                byte[] original = StreamBuilder.RandomBytes(random, start + length + 4);
                byte[] expected = (byte[])original.Clone();
                byte[] actual = (byte[])original.Clone();

                ReferenceMask(expected.AsSpan(start, length), key, offset);
                Masking.Unmask(actual.AsSpan(start, length), maskKey, offset);

                Assert.True(expected.AsSpan().SequenceEqual(actual), $"length {length}, offset {offset}, start {start}");
            }
        }
    }

    [Fact]
    public void UnmaskingInPiecesEqualsUnmaskingAtOnce()
    {
        var random = new Random(5);
        byte[] data = StreamBuilder.RandomBytes(random, 1000);
        byte[] whole = (byte[])data.Clone();
        byte[] pieces = (byte[])data.Clone();
        uint key = 0xA1B2C3D4;

        Masking.Unmask(whole, key, 0);
        int position = 0;
        while (position < pieces.Length)
        {
            int length = Math.Min(random.Next(1, 70), pieces.Length - position);
            Masking.Unmask(pieces.AsSpan(position, length), key, position);
            position += length;
        }

        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void MaskingTwiceRestoresTheData()
    {
        byte[] data = StreamBuilder.RandomBytes(new Random(8), 257);
        byte[] copy = (byte[])data.Clone();
        Masking.Unmask(copy, 0xDEADBEEF, 3);
        Assert.NotEqual(data, copy);
        Masking.Unmask(copy, 0xDEADBEEF, 3);
        Assert.Equal(data, copy);
    }

    [Fact]
    public void RfcExampleMasksHello()
    {
        // RFC 6455 section 5.7: key 37 fa 21 3d; "Hello" masked is 7f 9f 4d 51 58.
        byte[] data = "Hello"u8.ToArray();
        Masking.Unmask(data, 0x3D21FA37, 0);
        Assert.Equal(new byte[] { 0x7f, 0x9f, 0x4d, 0x51, 0x58 }, data);
    }

    [Theory]
    [InlineData(0, 0x44332211u)]
    [InlineData(1, 0x11443322u)]
    [InlineData(2, 0x22114433u)]
    [InlineData(3, 0x33221144u)]
    [InlineData(4, 0x44332211u)]
    [InlineData(7, 0x33221144u)]
    public void RotateMaskStartsAtTheOffsetKeyByte(int offset, uint expected)
    {
        Assert.Equal(expected, Masking.RotateMask(0x44332211, offset));
    }
}
