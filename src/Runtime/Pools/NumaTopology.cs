using System.Collections.ObjectModel;
using System.Globalization;
using WsGen.Pools;

namespace WsGen;

/// <summary>
/// The NUMA nodes of the machine and the logical CPUs of each, read from Linux sysfs
/// (<c>/sys/devices/system/node/node&lt;N&gt;/cpulist</c>).
/// </summary>
/// <remarks>
/// <para>Node and CPU ids are the kernel's real ids and may be sparse (for example nodes 0 and 2 only, or CPUs
/// missing because they are offline). A node may have no CPU (a memory-only node): it is listed in
/// <see cref="NodeIds"/> with an empty CPU list.</para>
/// <para><b>Fallback.</b> When the node folder is missing (macOS, Windows, some containers), a node folder has
/// no readable <c>cpulist</c>, a <c>cpulist</c> is malformed, a CPU appears in two nodes, or no CPU is listed at
/// all, the topology is one node, id 0, holding CPUs <c>0 .. Environment.ProcessorCount - 1</c>, and
/// <see cref="IsFallback"/> is true. Detection never throws.</para>
/// <para>Members that take an id throw <see cref="ArgumentOutOfRangeException"/> for an id the topology does not
/// have (including the gaps between sparse ids); the Try variant returns false instead.</para>
/// </remarks>
internal sealed class NumaTopology
{
    /// <summary>The largest node id accepted from sysfs; Linux has at most 1024 nodes (MAX_NUMNODES).</summary>
    internal const int MaxNodeId = 4095;

    private readonly int[] _nodeOfCpu;
    private readonly ReadOnlyCollection<int>?[] _cpusOfNode;

    private NumaTopology(List<(int NodeId, int[] Cpus)> nodes, int maxCpuId, bool isFallback)
    {
        _nodeOfCpu = new int[maxCpuId + 1];
        Array.Fill(_nodeOfCpu, -1);
        _cpusOfNode = new ReadOnlyCollection<int>?[nodes[^1].NodeId + 1];

        var nodeIds = new int[nodes.Count];
        int cpuCount = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            (int nodeId, int[] cpus) = nodes[i];
            nodeIds[i] = nodeId;
            _cpusOfNode[nodeId] = Array.AsReadOnly(cpus);
            foreach (int cpu in cpus)
                _nodeOfCpu[cpu] = nodeId;
            cpuCount += cpus.Length;
        }

        var cpuIds = new int[cpuCount];
        int next = 0;
        for (int cpu = 0; cpu < _nodeOfCpu.Length; cpu++)
        {
            if (_nodeOfCpu[cpu] >= 0)
                cpuIds[next++] = cpu;
        }

        NodeIds = Array.AsReadOnly(nodeIds);
        CpuIds = Array.AsReadOnly(cpuIds);
        IsFallback = isFallback;
    }

    /// <summary>The number of NUMA nodes (at least 1).</summary>
    public int NodeCount => NodeIds.Count;

    /// <summary>The number of logical CPUs (at least 1).</summary>
    public int CpuCount => CpuIds.Count;

    /// <summary>The node ids, ascending.</summary>
    public IReadOnlyList<int> NodeIds { get; }

    /// <summary>The CPU ids, ascending.</summary>
    public IReadOnlyList<int> CpuIds { get; }

    /// <summary>True when sysfs could not be used and the topology is the single-node fallback.</summary>
    public bool IsFallback { get; }

    /// <summary>The topology of this machine: sysfs under <c>/sys</c>, or the single-node fallback.</summary>
    public static NumaTopology Detect() => FromSysfs("/sys");

    /// <summary>The topology described by a sysfs tree: <paramref name="sysRoot"/> holds
    /// <c>devices/system/node/node&lt;N&gt;/cpulist</c>. Falls back to one node when the tree is missing or malformed.</summary>
    public static NumaTopology FromSysfs(string sysRoot)
    {
        ArgumentNullException.ThrowIfNull(sysRoot);
        return TryRead(Path.Combine(sysRoot, "devices", "system", "node")) ?? Fallback(Environment.ProcessorCount);
    }

    /// <summary>The node that CPU <paramref name="cpu"/> belongs to.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The topology has no CPU <paramref name="cpu"/>.</exception>
    public int NodeOfCpu(int cpu)
    {
        if (!TryGetNodeOfCpu(cpu, out int node))
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, "The NUMA topology has no CPU with this id.");
        return node;
    }

    /// <summary>The node that CPU <paramref name="cpu"/> belongs to, or false when the topology has no such CPU.</summary>
    public bool TryGetNodeOfCpu(int cpu, out int node)
    {
        node = (uint)cpu < (uint)_nodeOfCpu.Length ? _nodeOfCpu[cpu] : -1;
        return node >= 0;
    }

    /// <summary>The CPUs of node <paramref name="node"/>, in the order sysfs lists them (ascending).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The topology has no node <paramref name="node"/>.</exception>
    public IReadOnlyList<int> CpusOfNode(int node)
    {
        if ((uint)node >= (uint)_cpusOfNode.Length || _cpusOfNode[node] is not { } cpus)
            throw new ArgumentOutOfRangeException(nameof(node), node, "The NUMA topology has no node with this id.");
        return cpus;
    }

    /// <summary>True when the topology has a node with id <paramref name="node"/>.</summary>
    public bool HasNode(int node) => (uint)node < (uint)_cpusOfNode.Length && _cpusOfNode[node] is not null;

    /// <inheritdoc />
    public override string ToString() =>
        $"{NodeCount} NUMA node(s), {CpuCount} CPU(s){(IsFallback ? " (fallback: no usable sysfs topology)" : "")}";

    /// <summary>One node, id 0, with CPUs 0 to <paramref name="cpuCount"/> - 1.</summary>
    internal static NumaTopology Fallback(int cpuCount)
    {
        var cpus = new int[Math.Max(1, cpuCount)];
        for (int i = 0; i < cpus.Length; i++)
            cpus[i] = i;
        return new NumaTopology([(0, cpus)], cpus.Length - 1, isFallback: true);
    }

    /// <summary>Reads every <c>node&lt;N&gt;/cpulist</c> of <paramref name="nodeDirectory"/>; null when anything is off.</summary>
    private static NumaTopology? TryRead(string nodeDirectory)
    {
        try
        {
            if (!Directory.Exists(nodeDirectory))
                return null;

            var nodes = new List<(int NodeId, int[] Cpus)>();
            var cpus = new List<int>();
            foreach (string path in Directory.EnumerateDirectories(nodeDirectory))
            {
                if (!TryParseNodeName(Path.GetFileName(path.AsSpan()), out int nodeId))
                    continue;

                string cpuListPath = Path.Combine(path, "cpulist");
                if (!File.Exists(cpuListPath))
                    return null;

                cpus.Clear();
                if (!CpuListParser.TryParse(File.ReadAllText(cpuListPath), cpus))
                    return null;
                nodes.Add((nodeId, cpus.ToArray()));
            }

            return TryCreate(nodes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return null;
        }
    }

    /// <summary>A topology of <paramref name="nodes"/> (any order); null when there is no CPU at all, a node id
    /// repeats, or a CPU belongs to two nodes.</summary>
    internal static NumaTopology? TryCreate(List<(int NodeId, int[] Cpus)> nodes)
    {
        nodes.Sort(static (a, b) => a.NodeId.CompareTo(b.NodeId));
        int maxCpuId = -1;
        for (int i = 0; i < nodes.Count; i++)
        {
            if (nodes[i].NodeId is < 0 or > MaxNodeId || (i > 0 && nodes[i].NodeId == nodes[i - 1].NodeId))
                return null;
            foreach (int cpu in nodes[i].Cpus)
            {
                if (cpu is < 0 or > CpuListParser.MaxCpuId)
                    return null;
                maxCpuId = Math.Max(maxCpuId, cpu);
            }
        }

        if (maxCpuId < 0)
            return null;

        var seen = new bool[maxCpuId + 1];
        foreach ((_, int[] cpus) in nodes)
        {
            foreach (int cpu in cpus)
            {
                if (seen[cpu])
                    return null;
                seen[cpu] = true;
            }
        }

        return new NumaTopology(nodes, maxCpuId, isFallback: false);
    }

    /// <summary>Recognizes a folder name <c>node&lt;N&gt;</c>: decimal digits after "node", no sign, no leading zero.
    /// Other names (sysfs also has <c>power</c>, for example) are not nodes.</summary>
    private static bool TryParseNodeName(ReadOnlySpan<char> name, out int nodeId)
    {
        nodeId = -1;
        if (!name.StartsWith("node", StringComparison.Ordinal))
            return false;
        ReadOnlySpan<char> digits = name["node".Length..];
        if (digits.IsEmpty || (digits.Length > 1 && digits[0] == '0'))
            return false;
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }

        // A node folder with an id too large to use makes the whole tree suspect: TryCreate rejects it.
        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out nodeId))
            nodeId = int.MaxValue;
        return true;
    }
}
