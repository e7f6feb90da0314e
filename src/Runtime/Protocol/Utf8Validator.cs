using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Unicode;

namespace WsGen.Protocol;

/// <summary>
/// Validates UTF-8 that arrives in pieces (the fragments and reads of one text message), failing as soon as the
/// bytes seen so far cannot begin any valid UTF-8 text (RFC 3629, as RFC 6455 section 8.1 requires).
/// </summary>
/// <remarks>
/// The state is 4 bytes: how many continuation bytes the sequence cut at the end of the last piece still needs,
/// and the range its next byte must fall in (which is narrower than 0x80-0xBF right after E0, ED, F0 and F4,
/// excluding overlong forms, surrogates and code points above U+10FFFF). Whole sequences are checked by the BCL's
/// vectorized <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>; only the sequences cut at the ends of a piece go
/// through the byte-wise state machine. Noncharacters (U+FFFE, U+FDD0...) are valid Unicode scalar values and pass.
/// A default instance is ready to use.
/// </remarks>
internal struct Utf8Validator
{
    private byte _needed;
    private byte _lower;
    private byte _upper;
    private bool _failed;

    /// <summary>True when the bytes appended so far end inside a code point.</summary>
    public readonly bool IsInsideCodePoint => _needed != 0;

    /// <summary>
    /// Appends the next piece of the text. Returns false when the bytes so far (including earlier pieces) cannot be
    /// the start of valid UTF-8; once false, it stays false until <see cref="Reset"/>.
    /// </summary>
    public bool Append(ReadOnlySpan<byte> chunk)
    {
        if (_failed)
            return false;

        int i = 0;
        // Finish the sequence the previous piece cut.
        while (_needed != 0 && i < chunk.Length)
        {
            if (!Step(chunk[i++]))
                return Fail();
        }

        if (i == chunk.Length)
            return true;

        ReadOnlySpan<byte> rest = chunk.Slice(i);
        int cut = IncompleteTailStart(rest);
        if (!IsValid(rest.Slice(0, cut)))
            return Fail();

        for (int j = cut; j < rest.Length; j++)
        {
            if (!Step(rest[j]))
                return Fail();
        }

        return true;
    }

    /// <summary>Ends the text: returns false when it failed or ends inside a code point.</summary>
    public readonly bool Complete() => !_failed && _needed == 0;

    /// <summary>Forgets everything, for the next text.</summary>
    public void Reset() => this = default;

    /// <summary>True when all of <paramref name="data"/> is valid UTF-8.</summary>
    /// <remarks>Short ASCII text, the usual small message, is recognized inline with a few overlapping loads; the
    /// rest goes to the BCL's vectorized check, which would spend more on its call and setup than on such text.</remarks>
    public static bool IsValid(ReadOnlySpan<byte> data) => IsShortAscii(data) || Utf8.IsValid(data);

    /// <summary>True when <paramref name="data"/> is at most <see cref="ShortAsciiLimit"/> bytes, all ASCII. False
    /// says nothing about longer data or about non-ASCII text.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsShortAscii(ReadOnlySpan<byte> data)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        int length = data.Length;
        if (length >= Vector128<byte>.Count)
        {
            if (length > ShortAsciiLimit || !Vector128.IsHardwareAccelerated)
                return false;
            // Loads that overlap cover any length from 16 to 64 bytes.
            Vector128<byte> bits = Vector128.LoadUnsafe(ref start) | Vector128.LoadUnsafe(ref start, (nuint)(length - 16));
            if (length > 32)
                bits |= Vector128.LoadUnsafe(ref start, 16) | Vector128.LoadUnsafe(ref start, (nuint)(length - 32));
            return bits.ExtractMostSignificantBits() == 0;
        }

        if (length >= sizeof(ulong))
        {
            ulong bits = Unsafe.ReadUnaligned<ulong>(ref start) | Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, length - 8));
            return (bits & 0x8080_8080_8080_8080) == 0;
        }

        if (length >= sizeof(uint))
        {
            uint bits = Unsafe.ReadUnaligned<uint>(ref start) | Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, length - 4));
            return (bits & 0x8080_8080) == 0;
        }

        int all = 0;
        for (int i = 0; i < length; i++)
            all |= Unsafe.Add(ref start, i);
        return all < 0x80;
    }

    /// <summary>The longest text <see cref="IsShortAscii"/> checks itself.</summary>
    internal const int ShortAsciiLimit = 64;

    private bool Fail()
    {
        _failed = true;
        return false;
    }

    /// <summary>Feeds one byte to the state machine. False when it makes the text invalid.</summary>
    private bool Step(byte b)
    {
        if (_needed != 0)
        {
            if (b < _lower || b > _upper)
                return false;
            _needed--;
            _lower = 0x80;
            _upper = 0xBF;
            return true;
        }

        if (b < 0x80)
            return true;

        (byte needed, byte lower, byte upper) = b switch
        {
            >= 0xC2 and <= 0xDF => ((byte)1, (byte)0x80, (byte)0xBF),
            0xE0 => ((byte)2, (byte)0xA0, (byte)0xBF),  // no overlong 3-byte forms
            0xED => ((byte)2, (byte)0x80, (byte)0x9F),  // no surrogates
            >= 0xE1 and <= 0xEF => ((byte)2, (byte)0x80, (byte)0xBF),
            0xF0 => ((byte)3, (byte)0x90, (byte)0xBF),  // no overlong 4-byte forms
            >= 0xF1 and <= 0xF3 => ((byte)3, (byte)0x80, (byte)0xBF),
            0xF4 => ((byte)3, (byte)0x80, (byte)0x8F),  // nothing above U+10FFFF
            _ => ((byte)0, (byte)0, (byte)0),           // continuation bytes, C0, C1, F5-FF
        };

        if (needed == 0)
            return false;
        _needed = needed;
        _lower = lower;
        _upper = upper;
        return true;
    }

    /// <summary>
    /// The index where a multi-byte sequence begins that <paramref name="data"/> cuts short, or its length when the
    /// last sequence is whole (or invalid, which the bulk check then reports).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int IncompleteTailStart(ReadOnlySpan<byte> data)
    {
        int length = data.Length;
        for (int back = 1; back <= 3 && back <= length; back++)
        {
            byte b = data[length - back];
            if ((b & 0xC0) == 0x80)
                continue;  // a continuation byte: look further back for its lead

            int sequenceLength = b switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 1,
            };
            return sequenceLength > back ? length - back : length;
        }

        return length;
    }
}
