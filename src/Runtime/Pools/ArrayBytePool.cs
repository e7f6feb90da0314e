using System.Runtime.InteropServices;

namespace WsGen;

/// <summary>
/// An <see cref="IBytePool"/> over an <see cref="IObjectPool{T}"/> of equal-sized pinned arrays, so that byte buffers
/// can come from the pool a <see cref="NumaPoolManager{T}"/> keeps for one CPU or node.
/// </summary>
/// <remarks>Unlike <see cref="BytePool"/>, it cannot tell a buffer returned twice: use it where the library itself
/// returns the buffers (the loops' backpressure queues), and <see cref="BytePool"/> where buffers reach user code.</remarks>
internal sealed class ArrayBytePool : IBytePool
{
    private readonly IObjectPool<byte[]> _arrays;

    /// <param name="arrays">Gives arrays of exactly <paramref name="bufferSize"/> bytes.</param>
    /// <param name="bufferSize">The length of every buffer.</param>
    public ArrayBytePool(IObjectPool<byte[]> arrays, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        _arrays = arrays;
        BufferSize = bufferSize;
    }

    /// <summary>A pool factory for <see cref="NumaPoolManager{T}"/>: pinned arrays of <paramref name="bufferSize"/> bytes,
    /// at most <paramref name="maxRetained"/> kept.</summary>
    public static IObjectPool<byte[]> CreateArrayPool(int bufferSize, int maxRetained) =>
        new ObjectPool<byte[]>(() => GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true), maxRetained);

    public int BufferSize { get; }

    public Memory<byte> Get()
    {
        var array = _arrays.Get();
        if (array.Length != BufferSize)
            throw new InvalidOperationException($"The array pool gave {array.Length} bytes where {BufferSize} were expected.");
        return array;
    }

    public void Put(Memory<byte> buffer)
    {
        if (!MemoryMarshal.TryGetArray<byte>(buffer, out var segment) || segment.Offset != 0 || segment.Count != BufferSize
            || segment.Array!.Length != BufferSize)
            throw new InvalidOperationException("Only whole buffers this pool handed out can be returned.");
        _arrays.Put(segment.Array);
    }
}
