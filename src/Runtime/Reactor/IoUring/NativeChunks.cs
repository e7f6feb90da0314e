using System.Runtime.InteropServices;

namespace WsGen.Reactor;

/// <summary>
/// Fixed-size chunks of native memory for one loop thread, carved from 64 KiB slabs on demand and reused last in,
/// first out. A slab is freed only with the pool, so the memory a burst touched stays with the loop; small chunks
/// keep that memory small (a page holds several of them, where a large buffer touches at least one page each).
/// </summary>
internal sealed unsafe class NativeChunks : IDisposable
{
    private const int SlabSize = 64 * 1024;

    private readonly Stack<nint> _free = new();
    private readonly List<nint> _slabs = [];
    private byte* _next;
    private byte* _end;

    /// <summary>A pool of chunks of <paramref name="chunkSize"/> bytes (a divisor of 64 KiB).</summary>
    public NativeChunks(int chunkSize)
    {
        if (chunkSize <= 0 || SlabSize % chunkSize != 0)
            throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "The chunk size must divide 64 KiB.");
        ChunkSize = chunkSize;
    }

    /// <summary>The size of every chunk.</summary>
    public int ChunkSize { get; }

    /// <summary>A chunk of <see cref="ChunkSize"/> bytes: the last one returned, or a new one.</summary>
    public byte* Rent()
    {
        if (_free.TryPop(out nint chunk))
            return (byte*)chunk;
        if (_next == _end)
        {
            _next = (byte*)NativeMemory.Alloc(SlabSize);
            _end = _next + SlabSize;
            _slabs.Add((nint)_next);
        }

        byte* rented = _next;
        _next += ChunkSize;
        return rented;
    }

    /// <summary>Gives back a chunk <see cref="Rent"/> returned.</summary>
    public void Return(byte* chunk) => _free.Push((nint)chunk);

    /// <summary>Frees every slab; no chunk may be used afterwards.</summary>
    public void Dispose()
    {
        foreach (nint slab in _slabs)
            NativeMemory.Free((void*)slab);
        _slabs.Clear();
        _free.Clear();
        _next = _end = null;
    }
}
