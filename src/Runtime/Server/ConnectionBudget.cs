namespace WsGen.Server;

/// <summary>The server-wide count of connections (handshakes included) against its maximum, shared by all loops.
/// Touched once when a connection arrives and once when it goes, never per message.</summary>
/// <param name="max">The most connections.</param>
/// <param name="perAddress">The per-address limits, shared as this count is; null when they are off.</param>
internal sealed class ConnectionBudget(int max, AddressLimits? perAddress = null)
{
    /// <summary>The per-address limits, or null when they are off.</summary>
    public AddressLimits? PerAddress => perAddress;

    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _count) <= max)
            return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _count);
}
