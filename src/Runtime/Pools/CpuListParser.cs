using System.Globalization;

namespace WsGen.Pools;

/// <summary>
/// Parses the Linux "cpulist" format of /sys (for example <c>0-3,8-11</c>): comma-separated CPU ids or
/// inclusive ranges <c>a-b</c> with <c>a &lt;= b</c>, optionally ended by one newline. An empty list (a node
/// with memory but no CPU) is valid.
/// </summary>
/// <remarks>
/// Parsing is strict: no spaces, signs, empty items, descending ranges, strides (<c>0-7:2</c>, which sysfs
/// never prints) or ids above <see cref="MaxCpuId"/>.
/// </remarks>
internal static class CpuListParser
{
    /// <summary>The largest CPU id accepted; Linux supports at most 8192 CPUs (CONFIG_NR_CPUS).</summary>
    public const int MaxCpuId = (1 << 16) - 1;

    /// <summary>Appends the CPU ids of <paramref name="text"/> to <paramref name="cpus"/>, in the order listed.</summary>
    /// <returns>False when the text is malformed; <paramref name="cpus"/> may then hold part of the list.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, List<int> cpus)
    {
        if (text.EndsWith('\n'))
            text = text[..^1];
        if (text.IsEmpty)
            return true;

        foreach (Range itemRange in text.Split(','))
        {
            ReadOnlySpan<char> item = text[itemRange];
            int dash = item.IndexOf('-');
            int first, last;
            if (dash < 0)
            {
                if (!TryParseId(item, out first))
                    return false;
                last = first;
            }
            else if (!TryParseId(item[..dash], out first) || !TryParseId(item[(dash + 1)..], out last) || last < first)
            {
                return false;
            }

            for (int cpu = first; cpu <= last; cpu++)
                cpus.Add(cpu);
        }

        return true;
    }

    private static bool TryParseId(ReadOnlySpan<char> digits, out int id)
    {
        if (!digits.IsEmpty
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out id)
            && id <= MaxCpuId)
        {
            return true;
        }

        id = 0;
        return false;
    }
}
