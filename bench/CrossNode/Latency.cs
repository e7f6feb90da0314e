namespace CrossNode;

/// <summary>Publish-to-delivery times in microseconds, counted into buckets that are exact below 2,048 us and
/// within 0.1% above (1,024 buckets per power of two), so that any number of deliveries costs no memory and no
/// allocation; safe to add to from any thread.</summary>
internal sealed class Latency
{
    private const int Exact = 2048;
    private const int PerOctave = 1024;
    private readonly long[] _counts = new long[Exact + 40 * PerOctave];

    public void Add(long microseconds)
    {
        long v = Math.Max(0, microseconds);
        int index;
        if (v < Exact)
        {
            index = (int)v;
        }
        else
        {
            int shift = 63 - (int)long.LeadingZeroCount(v) - 10; // v >> shift is in [1024, 2048)
            index = Exact + (shift - 1) * PerOctave + (int)((v >> shift) - PerOctave);
        }
        Interlocked.Increment(ref _counts[Math.Min(index, _counts.Length - 1)]);
    }

    /// <summary>The smallest time that <paramref name="fraction"/> of the counted deliveries do not exceed.</summary>
    public long Percentile(double fraction)
    {
        long total = 0;
        foreach (long c in _counts)
            total += c;
        if (total == 0)
            return 0;
        long rank = (long)Math.Ceiling(fraction * total), seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return i < Exact ? i : (long)((i - Exact) % PerOctave + PerOctave) << ((i - Exact) / PerOctave + 1);
        }
        return long.MaxValue;
    }
}
