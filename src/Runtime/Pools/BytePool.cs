using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace WsGen;

/// <summary>
/// Fixed-size byte buffers carved from large pinned slabs. Once the pool has grown to its working set,
/// <see cref="Get"/> and <see cref="Put"/> allocate nothing.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Each slab is one array allocated with
/// <see cref="GC.AllocateUninitializedArray{T}(int, bool)"/> on the pinned object heap, split into
/// <see cref="BuffersPerSlab"/> buffers (the last slab may be shorter when <see cref="MaxBuffers"/> cuts it).
/// Buffer <c>i</c> of slab <c>s</c> has the global index <c>s * BuffersPerSlab + i</c>. The free buffers are an
/// <c>int[]</c> stack of such indices and ownership is one bit per buffer in a <c>ulong[]</c>: there is no
/// object per buffer. Handed-out buffers are created with <see cref="MemoryMarshal.CreateFromPinnedArray{T}"/>,
/// so <see cref="Memory{T}.Pin"/> on them needs no GC handle (ready for native I/O).</para>
/// <para><b>Reuse order.</b> The free list is a stack: the buffer returned last is handed out first, while
/// it is still warm in the cache. A new slab hands out its buffers in address order.</para>
/// <para><b>Thread safety.</b> Every member is thread-safe. The free stack and the in-use bits are guarded by
/// one <see cref="Lock"/>: a pool is normally used by one event loop, so the lock is uncontended (a single
/// atomic operation to enter), and buffers that another thread releases (for example a frame released by
/// application code) stay correct. A new slab is allocated while the lock is held; that happens only
/// while the pool grows.</para>
/// <para><b>Put validation.</b> <see cref="Put"/> finds the buffer's slab with
/// <see cref="MemoryMarshal.TryGetArray{T}"/> and a dictionary keyed by slab identity (O(1), allocation-free
/// lookup), then checks that the offset is a multiple of <see cref="BufferSize"/>, that the length is exactly
/// <see cref="BufferSize"/> and that the buffer's in-use bit is set. Any failure throws
/// <see cref="InvalidOperationException"/> before the pool is modified.</para>
/// </remarks>
public sealed class BytePool : IBytePool
{
    /// <summary>The slab size aimed at when the constructor chooses the number of buffers per slab: 1 MiB.</summary>
    public const int DefaultSlabBytes = 1 << 20;

    private readonly Lock _lock = new();
    private readonly int _bufferSize;
    private readonly int _buffersPerSlab;
    private readonly int _maxBuffers;
    private readonly Dictionary<byte[], int> _slabIndex = new(ReferenceEqualityComparer.Instance);
    private byte[][] _slabs = [];
    private int _slabCount;
    private int[] _free = [];
    private int _freeCount;
    private ulong[] _inUse = [];
    private int _capacity;

    /// <summary>Creates an empty pool; the first slab is allocated by the first <see cref="Get"/>.</summary>
    /// <param name="bufferSize">The length of every buffer, in bytes (at least 1).</param>
    /// <param name="buffersPerSlab">Buffers carved from each slab; 0 (the default) chooses as many as fit in
    /// <see cref="DefaultSlabBytes"/>, at least 1.</param>
    /// <param name="maxBuffers">The most buffers the pool ever carves; <see cref="Get"/> throws and
    /// <see cref="TryGet"/> returns false when all of them are in use.</param>
    public BytePool(int bufferSize, int buffersPerSlab = 0, int maxBuffers = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bufferSize, Array.MaxLength);
        ArgumentOutOfRangeException.ThrowIfNegative(buffersPerSlab);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBuffers, 1);

        if (buffersPerSlab == 0)
            buffersPerSlab = Math.Max(1, DefaultSlabBytes / bufferSize);
        if ((long)bufferSize * buffersPerSlab > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(buffersPerSlab), buffersPerSlab,
                $"A slab of {buffersPerSlab} buffers of {bufferSize} bytes exceeds the largest array .NET can allocate.");

        _bufferSize = bufferSize;
        _buffersPerSlab = buffersPerSlab;
        _maxBuffers = maxBuffers;
    }

    /// <inheritdoc />
    public int BufferSize => _bufferSize;

    /// <summary>The number of buffers each slab is split into.</summary>
    public int BuffersPerSlab => _buffersPerSlab;

    /// <summary>The most buffers this pool will ever carve.</summary>
    public int MaxBuffers => _maxBuffers;

    /// <summary>The number of buffers carved so far (free or in use).</summary>
    public int Capacity => Volatile.Read(ref _capacity);

    /// <summary>The number of carved buffers that are free.</summary>
    public int Available => Volatile.Read(ref _freeCount);

    /// <summary>The number of buffers handed out and not yet returned.</summary>
    public int InUse
    {
        get
        {
            lock (_lock)
                return _capacity - _freeCount;
        }
    }

    /// <summary>The number of slabs allocated so far.</summary>
    public int SlabCount => Volatile.Read(ref _slabCount);

    /// <summary>Takes a buffer of <see cref="BufferSize"/> bytes, adding a slab when none is free.</summary>
    /// <exception cref="InvalidOperationException"><see cref="MaxBuffers"/> buffers are all in use.</exception>
    public Memory<byte> Get()
    {
        if (!TryGet(out var buffer))
            ThrowExhausted();
        return buffer;
    }

    /// <summary>Takes a buffer of <see cref="BufferSize"/> bytes, adding a slab when none is free.</summary>
    /// <returns>False, with <paramref name="buffer"/> empty, when <see cref="MaxBuffers"/> buffers are all in use.</returns>
    public bool TryGet(out Memory<byte> buffer)
    {
        int index;
        byte[] slab;
        lock (_lock)
        {
            if (_freeCount == 0 && !TryAddSlab())
            {
                buffer = default;
                return false;
            }

            index = _free[--_freeCount];
            _inUse[index >> 6] |= 1UL << index;
            slab = _slabs[index / _buffersPerSlab];
        }

        buffer = MemoryMarshal.CreateFromPinnedArray(slab, index % _buffersPerSlab * _bufferSize, _bufferSize);
        return true;
    }

    /// <summary>Gives back a whole buffer that this pool handed out.</summary>
    /// <exception cref="InvalidOperationException">The buffer is not one of this pool's (another memory, a slice,
    /// a wrong length) or it is not in use (returned twice). The pool is left unchanged.</exception>
    public void Put(Memory<byte> buffer)
    {
        if (!MemoryMarshal.TryGetArray<byte>(buffer, out var segment) || segment.Array is null)
            ThrowForeign();
        if (segment.Count != _bufferSize)
            ThrowWrongLength(segment.Count);
        if (segment.Offset % _bufferSize != 0)
            ThrowNotWhole();

        lock (_lock)
        {
            if (!_slabIndex.TryGetValue(segment.Array, out int slabIndex))
                ThrowForeign();

            // The segment lies inside its array, so a whole-buffer offset names a buffer the slab really has.
            int index = slabIndex * _buffersPerSlab + segment.Offset / _bufferSize;
            ref ulong word = ref _inUse[index >> 6];
            ulong bit = 1UL << index;
            if ((word & bit) == 0)
                ThrowNotInUse();

            word &= ~bit;
            _free[_freeCount++] = index;
        }
    }

    /// <summary>Carves one more slab, if <see cref="MaxBuffers"/> allows it. Called with the lock held.</summary>
    private bool TryAddSlab()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        int count = Math.Min(_buffersPerSlab, _maxBuffers - _capacity);
        if (count == 0)
            return false;

        // Only the last slab may be short (it is cut by maxBuffers), so the new slab's first index is the capacity.
        Debug.Assert(_capacity == _slabCount * _buffersPerSlab);
        int first = _capacity;
        int newCapacity = first + count;

        // Allocate everything before touching the pool, so an OutOfMemoryException leaves it consistent.
        byte[] slab = GC.AllocateUninitializedArray<byte>(count * _bufferSize, pinned: true);
        byte[][] slabs = _slabs.Length > _slabCount ? _slabs : Grow(_slabs, _slabCount + 1, int.MaxValue);
        int[] free = _free.Length >= newCapacity ? _free : Grow(_free, newCapacity, _maxBuffers);
        int words = (newCapacity + 63) >> 6;
        ulong[] inUse = _inUse.Length >= words ? _inUse : Grow(_inUse, words, (_maxBuffers + 63) >> 6);
        _slabIndex.EnsureCapacity(_slabCount + 1);

        slabs[_slabCount] = slab;
        _slabIndex.Add(slab, _slabCount);
        _slabs = slabs;
        _free = free;
        _inUse = inUse;

        // Push in reverse so that the slab's buffers are handed out in address order.
        for (int index = newCapacity - 1; index >= first; index--)
            free[_freeCount++] = index;

        Volatile.Write(ref _capacity, newCapacity);
        Volatile.Write(ref _slabCount, _slabCount + 1);
        return true;
    }

    /// <summary>A copy of <paramref name="array"/> at least <paramref name="needed"/> long: doubled, capped at
    /// <paramref name="max"/>, so that growth costs amortized O(1) per buffer.</summary>
    private static TItem[] Grow<TItem>(TItem[] array, int needed, int max)
    {
        int length = (int)Math.Clamp(2L * array.Length, needed, Math.Max(needed, max));
        var grown = new TItem[length];
        Array.Copy(array, grown, array.Length);
        return grown;
    }

    [DoesNotReturn]
    private void ThrowExhausted() => throw new InvalidOperationException(
        $"The BytePool of {_bufferSize}-byte buffers is exhausted: all {_maxBuffers} buffers (maxBuffers) are in use.");

    [DoesNotReturn]
    private static void ThrowForeign() => throw new InvalidOperationException(
        "The buffer was not handed out by this BytePool: its memory is not one of the pool's slabs.");

    [DoesNotReturn]
    private void ThrowWrongLength(int length) => throw new InvalidOperationException(
        $"The buffer is {length} bytes long; this BytePool only takes back whole buffers of {_bufferSize} bytes.");

    [DoesNotReturn]
    private static void ThrowNotWhole() => throw new InvalidOperationException(
        "The buffer is a slice that does not start at a buffer boundary; give back the whole buffer that Get returned.");

    [DoesNotReturn]
    private static void ThrowNotInUse() => throw new InvalidOperationException(
        "The buffer is not in use: it was already returned to this BytePool.");
}
