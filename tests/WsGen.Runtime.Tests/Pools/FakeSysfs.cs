namespace WsGen.Tests.Pools;

/// <summary>A throwaway sysfs tree in a temp folder: <c>&lt;Root&gt;/devices/system/node/node&lt;N&gt;/cpulist</c>.</summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs()
    {
        Root = Path.Combine(Path.GetTempPath(), "wsgen-sysfs-" + Guid.NewGuid().ToString("N"));
        NodeDirectory = Path.Combine(Root, "devices", "system", "node");
        Directory.CreateDirectory(NodeDirectory);
        // Real sysfs has these next to the node folders; they must be ignored.
        File.WriteAllText(Path.Combine(NodeDirectory, "online"), "0\n");
        File.WriteAllText(Path.Combine(NodeDirectory, "possible"), "0\n");
        Directory.CreateDirectory(Path.Combine(NodeDirectory, "power"));
    }

    public string Root { get; }

    public string NodeDirectory { get; }

    /// <summary>Creates a folder for node <paramref name="folderName"/>, with a cpulist when the content is not null.</summary>
    public FakeSysfs Node(string folderName, string? cpuList)
    {
        string folder = Path.Combine(NodeDirectory, folderName);
        Directory.CreateDirectory(folder);
        if (cpuList is not null)
            File.WriteAllText(Path.Combine(folder, "cpulist"), cpuList);
        return this;
    }

    public FakeSysfs Node(int id, string cpuList) => Node("node" + id, cpuList);

    public NumaTopology Read() => NumaTopology.FromSysfs(Root);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
