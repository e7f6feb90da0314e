using WsGen.Pools;

namespace WsGen.Tests.Pools;

public class NumaTopologyTests
{
    [Fact]
    public void OneNode_TwoCpus()
    {
        using var sys = new FakeSysfs().Node(0, "0-1\n");

        var topology = sys.Read();

        Assert.False(topology.IsFallback);
        Assert.Equal(1, topology.NodeCount);
        Assert.Equal(2, topology.CpuCount);
        Assert.Equal([0, 1], topology.CpusOfNode(0));
        Assert.Equal(0, topology.NodeOfCpu(0));
        Assert.Equal(0, topology.NodeOfCpu(1));
    }

    [Fact]
    public void TwoNodes_OfFourCpus()
    {
        using var sys = new FakeSysfs().Node(0, "0-3\n").Node(1, "4-7\n");

        var topology = sys.Read();

        Assert.False(topology.IsFallback);
        Assert.Equal(2, topology.NodeCount);
        Assert.Equal(8, topology.CpuCount);
        Assert.Equal([0, 1], topology.NodeIds);
        Assert.Equal([0, 1, 2, 3], topology.CpusOfNode(0));
        Assert.Equal([4, 5, 6, 7], topology.CpusOfNode(1));
        for (int cpu = 0; cpu < 8; cpu++)
            Assert.Equal(cpu < 4 ? 0 : 1, topology.NodeOfCpu(cpu));
    }

    [Fact]
    public void FourNodes_WithInterleavedLists()
    {
        using var sys = new FakeSysfs()
            .Node(0, "0,2,4-5\n")
            .Node(1, "1,3,6-7\n")
            .Node(2, "8-9,12\n")
            .Node(3, "10-11,13-15"); // no trailing newline is accepted too

        var topology = sys.Read();

        Assert.False(topology.IsFallback);
        Assert.Equal(4, topology.NodeCount);
        Assert.Equal(16, topology.CpuCount);
        Assert.Equal([0, 2, 4, 5], topology.CpusOfNode(0));
        Assert.Equal([1, 3, 6, 7], topology.CpusOfNode(1));
        Assert.Equal([8, 9, 12], topology.CpusOfNode(2));
        Assert.Equal([10, 11, 13, 14, 15], topology.CpusOfNode(3));
        int[] expectedNode = [0, 1, 0, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 3, 3, 3];
        for (int cpu = 0; cpu < 16; cpu++)
            Assert.Equal(expectedNode[cpu], topology.NodeOfCpu(cpu));
        Assert.Equal(Enumerable.Range(0, 16), topology.CpuIds);
    }

    [Fact]
    public void SparseNodeIds_KeepTheirRealIds()
    {
        using var sys = new FakeSysfs().Node(0, "0-1\n").Node(2, "2-3\n");

        var topology = sys.Read();

        Assert.False(topology.IsFallback);
        Assert.Equal(2, topology.NodeCount);
        Assert.Equal([0, 2], topology.NodeIds);
        Assert.Equal([2, 3], topology.CpusOfNode(2));
        Assert.Equal(2, topology.NodeOfCpu(3));
        Assert.False(topology.HasNode(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.CpusOfNode(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.CpusOfNode(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.CpusOfNode(-1));
    }

    [Fact]
    public void SparseCpuIds_AndAMemoryOnlyNode()
    {
        using var sys = new FakeSysfs().Node(0, "0,2\n").Node(1, "\n");

        var topology = sys.Read();

        Assert.False(topology.IsFallback);
        Assert.Equal(2, topology.NodeCount);
        Assert.Equal(2, topology.CpuCount);
        Assert.Equal([0, 2], topology.CpuIds);
        Assert.Empty(topology.CpusOfNode(1));
        Assert.False(topology.TryGetNodeOfCpu(1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.NodeOfCpu(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.NodeOfCpu(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.NodeOfCpu(-1));
    }

    [Fact]
    public void MissingFolder_FallsBackToOneNodeWithEveryCpu()
    {
        string root = Path.Combine(Path.GetTempPath(), "wsgen-no-sysfs-" + Guid.NewGuid().ToString("N"));

        AssertFallback(NumaTopology.FromSysfs(root));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0-")]
    [InlineData("-3")]
    [InlineData("a")]
    [InlineData("3-1")]
    [InlineData("0,,1")]
    [InlineData("0,")]
    [InlineData(",0")]
    [InlineData(" 0")]
    [InlineData("0 \n")]
    [InlineData("0\n\n")]
    [InlineData("0\r\n")]
    [InlineData("+1")]
    [InlineData("1-2-3")]
    [InlineData("0-7:2")]
    [InlineData("99999999999")]
    [InlineData("0-70000")]
    public void MalformedCpuList_FallsBack(string cpuList)
    {
        // An empty cpulist is only valid on a memory-only node; with no CPU anywhere the tree is unusable.
        using var sys = new FakeSysfs().Node(0, cpuList);

        AssertFallback(sys.Read());
    }

    [Fact]
    public void MalformedCpuListOnOneOfSeveralNodes_FallsBack()
    {
        using var sys = new FakeSysfs().Node(0, "0-3\n").Node(1, "4-x\n");

        AssertFallback(sys.Read());
    }

    [Fact]
    public void CpuInTwoNodes_FallsBack()
    {
        using var sys = new FakeSysfs().Node(0, "0-3\n").Node(1, "3-5\n");

        AssertFallback(sys.Read());
    }

    [Fact]
    public void NodeFolderWithoutCpuList_FallsBack()
    {
        using var sys = new FakeSysfs().Node(0, "0-3\n").Node("node1", cpuList: null);

        AssertFallback(sys.Read());
    }

    [Fact]
    public void NodeIdTooLarge_FallsBack()
    {
        using var sys = new FakeSysfs().Node(0, "0\n").Node("node99999999999", "1\n");

        AssertFallback(sys.Read());
    }

    [Fact]
    public void NoNodeFolder_FallsBack()
    {
        using var sys = new FakeSysfs();

        AssertFallback(sys.Read());
    }

    [Fact]
    public void Detect_OnThisMachine_FindsAtLeastOneNodeAndCpu()
    {
        var topology = NumaTopology.Detect();

        Assert.True(topology.NodeCount >= 1);
        Assert.True(topology.CpuCount >= 1);
        foreach (int cpu in topology.CpuIds)
            Assert.Contains(cpu, topology.CpusOfNode(topology.NodeOfCpu(cpu)));
        Assert.Equal(topology.CpuCount, topology.NodeIds.Sum(node => topology.CpusOfNode(node).Count));
    }

    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-3,8-11\n", new[] { 0, 1, 2, 3, 8, 9, 10, 11 })]
    [InlineData("5\n", new[] { 5 })]
    [InlineData("2-2,7", new[] { 2, 7 })]
    [InlineData("\n", new int[0])]
    [InlineData("", new int[0])]
    public void CpuListParser_ReadsValidLists(string text, int[] expected)
    {
        var cpus = new List<int>();

        Assert.True(CpuListParser.TryParse(text, cpus));
        Assert.Equal(expected, cpus);
    }

    private static void AssertFallback(NumaTopology topology)
    {
        Assert.True(topology.IsFallback);
        Assert.Equal(1, topology.NodeCount);
        Assert.Equal([0], topology.NodeIds);
        Assert.Equal(Environment.ProcessorCount, topology.CpuCount);
        Assert.Equal(Enumerable.Range(0, Environment.ProcessorCount), topology.CpusOfNode(0));
        Assert.Equal(0, topology.NodeOfCpu(Environment.ProcessorCount - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.NodeOfCpu(Environment.ProcessorCount));
    }
}
