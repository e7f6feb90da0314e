namespace WsGen.Tests.Pools;

public class NumaPoolManagerTests
{
    /// <summary>A pool that remembers what it was built for.</summary>
    private sealed class TaggedPool(int nodeId, int cpuId) : IObjectPool<object>
    {
        public int NodeId { get; } = nodeId;
        public int CpuId { get; } = cpuId;
        public object Get() => new();
        public void Put(object item) { }
    }

    [Fact]
    public void NodePools_AreBuiltOncePerNode_WithTheRightNodeId()
    {
        using var sys = new FakeSysfs().Node(0, "0-3\n").Node(1, "4-7\n");
        var nodeCalls = new List<int>();

        var manager = new NumaPoolManager<object>(sys.Read(),
            nodeId => { nodeCalls.Add(nodeId); return new TaggedPool(nodeId, -1); },
            (cpuId, nodeId) => new TaggedPool(nodeId, cpuId));

        Assert.Equal([0, 1], nodeCalls);
        Assert.Equal(2, manager.NodeCount);
        Assert.Equal(8, manager.CpuCount);
        Assert.Equal(0, Tag(manager.PoolForNode(0)).NodeId);
        Assert.Equal(1, Tag(manager.PoolForNode(1)).NodeId);
        Assert.Same(manager.PoolForNode(1), manager.PoolForNode(1));
        Assert.Equal([0, 1], nodeCalls);
    }

    [Fact]
    public void CpuPools_AreDistinctStable_AndBuiltForTheirCpusNode()
    {
        using var sys = new FakeSysfs().Node(0, "0,2,4-5\n").Node(2, "1,3,6-7\n");
        var cpuCalls = new List<(int Cpu, int Node)>();

        var manager = new NumaPoolManager<object>(sys.Read(),
            nodeId => new TaggedPool(nodeId, -1),
            (cpuId, nodeId) => { cpuCalls.Add((cpuId, nodeId)); return new TaggedPool(nodeId, cpuId); });

        int[] nodeOf = [0, 2, 0, 2, 0, 0, 2, 2];
        Assert.Equal(Enumerable.Range(0, 8).Select(cpu => (cpu, nodeOf[cpu])), cpuCalls);
        var pools = new HashSet<IObjectPool<object>>(ReferenceEqualityComparer.Instance);
        for (int cpu = 0; cpu < 8; cpu++)
        {
            var pool = manager.PoolForCPU(cpu);
            Assert.Same(pool, manager.PoolForCPU(cpu));
            Assert.Equal(cpu, Tag(pool).CpuId);
            Assert.Equal(nodeOf[cpu], Tag(pool).NodeId);
            Assert.True(pools.Add(pool), $"CPU {cpu} shares its pool");
        }

        Assert.DoesNotContain(manager.PoolForNode(0), pools);
        Assert.DoesNotContain(manager.PoolForNode(2), pools);
        Assert.Equal(8, cpuCalls.Count);
    }

    [Fact]
    public void WithoutACpuFactory_EachCpuGetsItsOwnPoolFromTheNodeFactory_WithItsNode()
    {
        using var sys = new FakeSysfs().Node(0, "0-1\n").Node(1, "2-4\n");
        var nodeCalls = new List<int>();

        var manager = new NumaPoolManager<object>(sys.Read(),
            nodeId => { nodeCalls.Add(nodeId); return new TaggedPool(nodeId, -1); });

        // Two node pools, then one pool per CPU built with the CPU's node.
        Assert.Equal([0, 1, 0, 0, 1, 1, 1], nodeCalls);
        var pools = Enumerable.Range(0, 5).Select(manager.PoolForCPU).ToList();
        Assert.Equal(5, pools.Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.Equal([0, 0, 1, 1, 1], pools.Select(p => Tag(p).NodeId));
        Assert.DoesNotContain(manager.PoolForNode(0), pools);
        Assert.DoesNotContain(manager.PoolForNode(1), pools);
    }

    [Fact]
    public void UnknownIds_ThrowArgumentOutOfRange()
    {
        using var sys = new FakeSysfs().Node(0, "0-1\n").Node(2, "2-3\n");
        var manager = new NumaPoolManager<object>(sys.Read(), nodeId => new TaggedPool(nodeId, -1));

        Assert.Throws<ArgumentOutOfRangeException>(() => manager.PoolForNode(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.PoolForNode(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.PoolForNode(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.PoolForCPU(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.PoolForCPU(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.PoolForCPU(int.MaxValue));
    }

    [Fact]
    public void ANullPoolFromAFactory_Throws()
    {
        using var sys = new FakeSysfs().Node(0, "0-1\n");

        Assert.Throws<InvalidOperationException>(() => new NumaPoolManager<object>(sys.Read(), _ => null!));
        Assert.Throws<InvalidOperationException>(() =>
            new NumaPoolManager<object>(sys.Read(), nodeId => new TaggedPool(nodeId, -1), (_, _) => null!));
    }

    [Fact]
    public void WorksOnTheFallbackTopology()
    {
        var topology = NumaTopology.FromSysfs(Path.Combine(Path.GetTempPath(), "wsgen-none-" + Guid.NewGuid().ToString("N")));

        var manager = new NumaPoolManager<object>(topology, nodeId => new ObjectPool<object>(() => new object(), 4));

        Assert.Equal(1, manager.NodeCount);
        Assert.Equal(Environment.ProcessorCount, manager.CpuCount);
        var pool = manager.PoolForCPU(Environment.ProcessorCount - 1);
        var item = pool.Get();
        pool.Put(item);
        Assert.Same(item, pool.Get());
    }

    private static TaggedPool Tag(IObjectPool<object> pool) => Assert.IsType<TaggedPool>(pool);
}
