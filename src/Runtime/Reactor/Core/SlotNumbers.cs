namespace WsGen.Reactor;

/// <summary>
/// Slot numbers for the connections of a backend that has no descriptor to number them by (io_uring's direct
/// descriptors, IOCP, the portable sockets loop, the fake): a freed number is handed out again first, so the core's
/// table stays as small as the most connections held at once.
/// </summary>
internal sealed class SlotNumbers
{
    private readonly Stack<int> _free = new();

    /// <summary>How many numbers were ever handed out: every slot is below it.</summary>
    public int Count { get; private set; }

    /// <summary>A free number.</summary>
    public int Take() => _free.TryPop(out int slot) ? slot : Count++;

    /// <summary>Gives <paramref name="slot"/> back once nothing refers to it.</summary>
    public void Return(int slot) => _free.Push(slot);
}
