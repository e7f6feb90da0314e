namespace WsGen.Reactor;

/// <summary>
/// Connections by slot number, in pages of <see cref="PageSize"/> slots allocated as slots are first used. A table
/// that doubled its one array would hold up to twice the references its connections need, plus the arrays it
/// outgrew until the GC takes them; pages keep the table at 8 bytes per slot in use, rounded up to a page.
/// </summary>
/// <remarks>Not thread-safe: one loop reads and writes it. A page, once allocated, stays until <see cref="Clear"/>.</remarks>
/// <typeparam name="T">The connection type.</typeparam>
internal sealed class ConnectionTable<T>
    where T : class
{
    internal const int PageBits = 9;
    internal const int PageSize = 1 << PageBits;
    private const int PageMask = PageSize - 1;

    private T?[]?[] _pages = new T?[]?[8];

    /// <summary>The connection in <paramref name="slot"/>, or null (also for a slot beyond the pages allocated).</summary>
    public T? this[int slot]
    {
        get
        {
            T?[]?[] pages = _pages;
            uint page = (uint)slot >> PageBits;
            return page < (uint)pages.Length && pages[page] is { } items ? items[slot & PageMask] : null;
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(slot);
            int page = slot >> PageBits;
            if (page >= _pages.Length)
            {
                if (value is null)
                    return;
                Array.Resize(ref _pages, Math.Max(page + 1, _pages.Length * 2));
            }

            T?[]? items = _pages[page];
            if (items is null)
            {
                if (value is null)
                    return;
                items = _pages[page] = new T?[PageSize];
            }

            items[slot & PageMask] = value;
        }
    }

    /// <summary>Pages allocated so far (some may be empty again).</summary>
    public int PageCount
    {
        get
        {
            int count = 0;
            foreach (T?[]? page in _pages)
                count += page is null ? 0 : 1;
            return count;
        }
    }

    /// <summary>Calls <paramref name="action"/> for every connection in the table, in slot order. The action may
    /// clear the slot it was called for (or any other).</summary>
    public void ForEach<TState>(TState state, Action<TState, T> action)
    {
        foreach (T?[]? page in _pages)
        {
            if (page is null)
                continue;
            for (int i = 0; i < page.Length; i++)
            {
                if (page[i] is { } conn)
                    action(state, conn);
            }
        }
    }

    /// <summary>Empties every slot and drops the pages.</summary>
    public void Clear() => _pages = new T?[]?[8];
}
