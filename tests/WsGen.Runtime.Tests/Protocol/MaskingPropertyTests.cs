using System.Buffers.Binary;
using CsCheck;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

/// <summary>Masking (RFC 6455 section 5.3) on generated data at every alignment of the buffer and of the key.</summary>
public class MaskingPropertyTests
{
    [Fact]
    public void MaskingIsTheBytewiseXorAtEveryAlignmentInAnyPiecesAndItsOwnInverse()
    {
        Gen.Select(Gen.Byte.Array[0, 600], Gen.Int[0, 63], Gen.Int[0, 3], Gen.UInt, Gen.Int)
            .Sample((payload, start, offset, key, splitSeed) =>
            {
                // The payload at any distance from a 64-byte boundary, with guard bytes on both sides.
                byte[] buffer = new byte[start + payload.Length + 64];
                buffer.AsSpan().Fill(0x5A);
                payload.CopyTo(buffer, start);
                Span<byte> data = buffer.AsSpan(start, payload.Length);

                // In random pieces, each unmasked with its offset in the frame.
                var random = new Random(splitSeed);
                int done = 0;
                while (done < data.Length)
                {
                    int length = Math.Min(data.Length - done, random.Next(1, 70));
                    Masking.Unmask(data.Slice(done, length), key, offset + done);
                    done += length;
                }

                Span<byte> keyBytes = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(keyBytes, key);
                for (int i = 0; i < payload.Length; i++)
                    Assert.Equal((byte)(payload[i] ^ keyBytes[(i + offset) % 4]), data[i]);
                Assert.DoesNotContain(buffer.AsSpan(0, start).ToArray(), b => b != 0x5A);
                Assert.DoesNotContain(buffer.AsSpan(start + payload.Length).ToArray(), b => b != 0x5A);

                Masking.Unmask(data, key, offset);
                Assert.True(data.SequenceEqual(payload), "masking twice is not the identity");
            }, iter: 2000, threads: 1);
    }
}
