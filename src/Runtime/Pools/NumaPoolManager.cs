namespace WsGen;

/// <summary>
/// One object pool per NUMA node and one per logical CPU of this machine (its topology read from /sys on Linux; one
/// node holding every CPU elsewhere), all created once, in the constructor.
/// </summary>
/// <remarks>
/// <para>Ids are the topology's real ids: with sparse nodes (0 and 2), <c>PoolForNode(1)</c> throws
/// <see cref="ArgumentOutOfRangeException"/> like any other id the topology does not have. The lookups are array
/// reads and return the same instance on every call; they are thread-safe.</para>
/// <para>A CPU pool is built for that CPU's node: by the CPU factory when one is given, otherwise by the node
/// factory called again with the CPU's node id (a separate pool, not the node's own).</para>
/// </remarks>
public sealed class NumaPoolManager<T> : INumaPoolManager<T> where T : class
{
    private readonly IObjectPool<T>?[] _nodePools;
    private readonly IObjectPool<T>?[] _cpuPools;

    /// <summary>Pools for the nodes and CPUs of this machine.</summary>
    /// <param name="nodePoolFactory">Builds the pool of a node, given the node id.</param>
    /// <param name="cpuPoolFactory">Builds the pool of a CPU, given the CPU id and its node id; when null,
    /// <paramref name="nodePoolFactory"/> is called with the CPU's node id.</param>
    /// <exception cref="InvalidOperationException">A factory returned null.</exception>
    public NumaPoolManager(Func<int, IObjectPool<T>> nodePoolFactory, Func<int, int, IObjectPool<T>>? cpuPoolFactory = null)
        : this(NumaTopology.Detect(), nodePoolFactory, cpuPoolFactory)
    {
    }

    /// <param name="topology">The nodes and CPUs to build pools for.</param>
    /// <param name="nodePoolFactory">Builds the pool of a node, given the node id.</param>
    /// <param name="cpuPoolFactory">Builds the pool of a CPU, given the CPU id and its node id; when null,
    /// <paramref name="nodePoolFactory"/> is called with the CPU's node id.</param>
    /// <exception cref="InvalidOperationException">A factory returned null.</exception>
    internal NumaPoolManager(
        NumaTopology topology,
        Func<int, IObjectPool<T>> nodePoolFactory,
        Func<int, int, IObjectPool<T>>? cpuPoolFactory = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(nodePoolFactory);
        Topology = topology;

        IReadOnlyList<int> nodeIds = topology.NodeIds;
        _nodePools = new IObjectPool<T>?[nodeIds[^1] + 1];
        foreach (int nodeId in nodeIds)
            _nodePools[nodeId] = nodePoolFactory(nodeId) ?? throw FactoryReturnedNull("node", nodeId);

        IReadOnlyList<int> cpuIds = topology.CpuIds;
        _cpuPools = new IObjectPool<T>?[cpuIds[^1] + 1];
        foreach (int cpuId in cpuIds)
        {
            int nodeId = topology.NodeOfCpu(cpuId);
            IObjectPool<T>? pool = cpuPoolFactory is null ? nodePoolFactory(nodeId) : cpuPoolFactory(cpuId, nodeId);
            _cpuPools[cpuId] = pool ?? throw FactoryReturnedNull("CPU", cpuId);
        }
    }

    /// <summary>The topology the pools were built for.</summary>
    internal NumaTopology Topology { get; }

    /// <summary>The ids of the NUMA nodes, ascending (they may be sparse: 0 and 2).</summary>
    public IReadOnlyList<int> NodeIds => Topology.NodeIds;

    /// <summary>The ids of the logical CPUs, ascending.</summary>
    public IReadOnlyList<int> CpuIds => Topology.CpuIds;

    /// <inheritdoc />
    public int NodeCount => Topology.NodeCount;

    /// <inheritdoc />
    public int CpuCount => Topology.CpuCount;

    /// <summary>The pool of node <paramref name="nodeId"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The topology has no node <paramref name="nodeId"/>.</exception>
    public IObjectPool<T> PoolForNode(int nodeId)
    {
        if ((uint)nodeId >= (uint)_nodePools.Length || _nodePools[nodeId] is not { } pool)
            throw new ArgumentOutOfRangeException(nameof(nodeId), nodeId, "The NUMA topology has no node with this id.");
        return pool;
    }

    /// <summary>The pool of logical CPU <paramref name="cpuId"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The topology has no CPU <paramref name="cpuId"/>.</exception>
    public IObjectPool<T> PoolForCPU(int cpuId)
    {
        if ((uint)cpuId >= (uint)_cpuPools.Length || _cpuPools[cpuId] is not { } pool)
            throw new ArgumentOutOfRangeException(nameof(cpuId), cpuId, "The NUMA topology has no CPU with this id.");
        return pool;
    }

    private static InvalidOperationException FactoryReturnedNull(string kind, int id) =>
        new($"The pool factory returned null for {kind} {id}.");
}
