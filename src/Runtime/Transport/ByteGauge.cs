namespace WsGen.Transport;

/// <summary>
/// A count of bytes that one thread changes and any thread may read: a loop's bytes waiting in its
/// <see cref="SendQueue"/>s, read by the metrics (wsgen.backpressure.bytes).
/// </summary>
internal sealed class ByteGauge
{
    private long _bytes;

    /// <summary>The bytes counted now.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Adds <paramref name="delta"/> (negative to subtract). Called by the owning thread only.</summary>
    public void Add(long delta) => Volatile.Write(ref _bytes, _bytes + delta);
}
