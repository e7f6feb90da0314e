using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace WsGen.Analyzers.Tests;

/// <summary>
/// The references every test compilation gets, found on this machine: the reference assemblies of the
/// installed targeting pack (dotnet root/packs/Microsoft.NETCore.App.Ref/highest version/ref/net10.0) and the
/// real WsGen.Runtime assembly. Nothing is downloaded.
/// </summary>
internal static class OfflineReferences
{
    private const string TargetFramework = "net10.0";

    public static ImmutableArray<MetadataReference> All { get; } = Load();

    private static ImmutableArray<MetadataReference> Load()
    {
        var folder = FindReferenceFolder();
        var references = Directory.GetFiles(folder, "*.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(WebSocketFrame).Assembly.Location));
        return references.ToImmutableArray();
    }

    private static string FindReferenceFolder()
    {
        foreach (var root in DotnetRoots())
        {
            var packs = Path.Combine(root, "packs", "Microsoft.NETCore.App.Ref");
            if (!Directory.Exists(packs))
                continue;
            var best = Directory.GetDirectories(packs)
                .Select(dir => (dir, version: ParseVersion(Path.GetFileName(dir))))
                .Where(x => x.version is not null && Directory.Exists(Path.Combine(x.dir, "ref", TargetFramework)))
                .OrderByDescending(x => x.version)
                .Select(x => Path.Combine(x.dir, "ref", TargetFramework))
                .FirstOrDefault();
            if (best is not null)
                return best;
        }
        throw new InvalidOperationException("No Microsoft.NETCore.App.Ref targeting pack for " + TargetFramework + " was found under the dotnet root.");
    }

    /// <summary>DOTNET_ROOT when set, then the root of the running runtime (shared/Microsoft.NETCore.App/x.y.z is three levels down).</summary>
    private static IEnumerable<string> DotnetRoots()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } fromEnvironment)
            yield return fromEnvironment;
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        if (runtimeDirectory is not null && Directory.GetParent(runtimeDirectory)?.Parent?.Parent is { } root)
            yield return root.FullName;
    }

    private static Version? ParseVersion(string name)
    {
        var dash = name.IndexOf('-');
        return Version.TryParse(dash < 0 ? name : name.Substring(0, dash), out var version) ? version : null;
    }
}
