using System.Text.Unicode;

namespace WsGen.Fuzz.Targets;

/// <summary>Whether bytes can still become UTF-8, judged by the BCL's <see cref="Utf8.IsValid"/> alone.</summary>
internal static class Utf8Oracle
{
    /// <summary>True when some continuation of at most 3 bytes makes <paramref name="bytes"/> valid UTF-8. Every range
    /// a continuation byte must fall in (80-BF, A0-BF, 80-9F, 90-BF, 80-8F) holds 0x80, 0x90 or 0xA0, so those
    /// three are the only candidates to try.</summary>
    public static bool CanBegin(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
            return true;

        byte[] extended = new byte[bytes.Length + 3];
        bytes.CopyTo(extended);
        ReadOnlySpan<byte> candidates = [0x80, 0x90, 0xA0];
        for (int extra = 1; extra <= 3; extra++)
        {
            int combinations = extra == 1 ? 3 : extra == 2 ? 9 : 27;
            for (int c = 0; c < combinations; c++)
            {
                int pick = c;
                for (int i = 0; i < extra; i++, pick /= 3)
                    extended[bytes.Length + i] = candidates[pick % 3];
                if (Utf8.IsValid(extended.AsSpan(0, bytes.Length + extra)))
                    return true;
            }
        }

        return false;
    }
}
