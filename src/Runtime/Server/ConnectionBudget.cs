namespace WsGen.Server;

/// <summary>The server-wide count of connections (handshakes included) against its maximum, shared by all loops.
/// Touched once when a connection arrives and once when it goes, never per message.</summary>
internal sealed class ConnectionBudget(int max)
{
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
