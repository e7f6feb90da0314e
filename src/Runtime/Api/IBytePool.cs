namespace WsGen;

/// <summary>Fixed-size byte buffers, the base of zero-copy (seed: BytePool).</summary>
public interface IBytePool
{
    /// <summary>The length of every buffer <see cref="Get"/> returns.</summary>
    int BufferSize { get; }

    /// <summary>Takes a buffer of <see cref="BufferSize"/> bytes. Its content is unspecified.</summary>
    Memory<byte> Get();

    /// <summary>Gives back a buffer that <see cref="Get"/> returned (the whole of it). Returning a buffer twice,
    /// or one the pool does not own, throws <see cref="InvalidOperationException"/> and leaves the pool intact.</summary>
    void Put(Memory<byte> buffer);
}

/// <summary>Reuse of any object (seed: ObjectPool[T]).</summary>
public interface IObjectPool<T> where T : class
{
    T Get();
    void Put(T item);
}

/// <summary>A pool per NUMA node and per logical CPU, for memory locality (seed: NumaPoolManager).</summary>
public interface INumaPoolManager<T> where T : class
{
    int NodeCount { get; }
    int CpuCount { get; }
    IObjectPool<T> PoolForNode(int nodeId);
    IObjectPool<T> PoolForCPU(int cpuId);
}
