using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace WsGen.Protocol;

/// <summary>
/// The payload masking of RFC 6455 section 5.3. A mask key is the 4 key bytes as they appear on the wire, read
/// as a little-endian <see cref="uint"/>: key byte j is <c>(byte)(maskKey &gt;&gt; (8 * j))</c>. Masking is its
/// own inverse, so <see cref="Unmask"/> also masks (the client side).
/// </summary>
internal static class Masking
{
    /// <summary>
    /// XORs <paramref name="data"/> in place with the mask: byte i is combined with key byte
    /// <c>(i + maskOffset) % 4</c>. <paramref name="maskOffset"/> is the number of payload bytes of the same frame
    /// that precede <paramref name="data"/> (only its low 2 bits matter), so a payload can be unmasked in pieces.
    /// </summary>
    public static void Unmask(Span<byte> data, uint maskKey, int maskOffset)
    {
        // The key as it lies in memory for a 4-byte-aligned position of the payload.
        uint key = RotateMask(maskKey, maskOffset);
        if (!BitConverter.IsLittleEndian)
            key = BinaryPrimitives.ReverseEndianness(key);

        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> mask = Vector256.Create(key).AsByte();
            nuint last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
                (Vector256.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> mask = Vector128.Create(key).AsByte();
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
                (Vector128.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }

        // Every step above and here consumes a multiple of 4 bytes, so the key stays in phase.
        ulong wide = key | ((ulong)key << 32);
        for (; length - i >= sizeof(ulong); i += sizeof(ulong))
        {
            ref byte at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<ulong>(ref at) ^ wide);
        }

        if (length - i >= sizeof(uint))
        {
            ref byte at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<uint>(ref at) ^ key);
            i += sizeof(uint);
        }

        // At most 3 bytes left, starting at a 4-aligned payload position: key bytes 0, 1, 2 in memory order.
        uint rest = RotateMask(maskKey, maskOffset);
        for (; i < length; i++)
        {
            Unsafe.Add(ref start, i) ^= (byte)rest;
            rest >>= 8;
        }
    }

    /// <summary>
    /// The key for a payload position <paramref name="offset"/> bytes further on: key byte j of the result is key
    /// byte <c>(j + offset) % 4</c> of <paramref name="mask"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RotateMask(uint mask, int offset) => BitOperations.RotateRight(mask, (offset & 3) * 8);
}
