using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace WsGen.Analyzers.Tests;

/// <summary>The analyzer tests compile against the installed targeting pack, never against a package the testing
/// library would fetch from a feed at test time: restore needs the registry, the tests themselves need no network.</summary>
public class OfflineReferencesTests
{
    [Fact]
    public async Task TestProjects_NameNoReferencePackage_AndResolveToNothingExtra()
    {
        var test = new AnalyzerTest("class C { }");
        Assert.Null(test.ReferenceAssemblies.ReferenceAssemblyPackage);
        Assert.Empty(test.ReferenceAssemblies.Packages);
        Assert.Empty(await test.ReferenceAssemblies.ResolveAsync(LanguageNames.CSharp, CancellationToken.None));
    }

    [Fact]
    public void References_ComeFromTheInstalledTargetingPack_AndTheRealRuntime()
    {
        var paths = OfflineReferences.All.OfType<PortableExecutableReference>().Select(r => r.FilePath!).ToList();
        Assert.Contains(paths, p => p.Contains(Path.Combine("packs", "Microsoft.NETCore.App.Ref")) && p.EndsWith("System.Runtime.dll"));
        Assert.Contains(paths, p => Path.GetFileName(p) == "WsGen.Runtime.dll");
        Assert.DoesNotContain(paths, p => p.Contains(Path.Combine(".nuget", "packages")));
    }
}
