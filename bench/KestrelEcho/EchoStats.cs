namespace KestrelEcho;

/// <summary>
/// Counts echoed messages and, when asked, prints
/// <c>stats messages=&lt;total&gt; allocated=&lt;GC.GetTotalAllocatedBytes(false)&gt;</c> once a second,
/// the same line as samples/Echo, so bench/run.sh can compute managed bytes allocated per message.
/// </summary>
internal static class EchoStats
{
    private static long s_messages;

    /// <summary>Counts one message echoed back to its sender.</summary>
    public static void OnMessageEchoed() => Interlocked.Increment(ref s_messages);

    /// <summary>Prints the stats line every second until <paramref name="stopping"/> fires.</summary>
    public static async Task PrintEverySecondAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                // Sample both counters before formatting, so the line's own allocation lands in the next one.
                long messages = Interlocked.Read(ref s_messages);
                long allocated = GC.GetTotalAllocatedBytes(precise: false);
                Console.Out.WriteLine($"stats messages={messages} allocated={allocated}");
            }
        }
        catch (OperationCanceledException)
        {
            // The host is stopping.
        }
    }
}
