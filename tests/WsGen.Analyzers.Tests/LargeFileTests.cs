using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace WsGen.Analyzers.Tests;

/// <summary>
/// What the analyzer finds in <see cref="LargeFile"/>'s 1,000 generated methods. Untimed: the time it takes is
/// measured by AnalyzerBenchmarks in bench/WsGen.Benchmarks (see bench/README.md).
/// </summary>
public sealed class LargeFileTests
{
    [Fact]
    public async Task Finds_the_one_planted_use_after_release_in_each_of_1000_methods_and_nothing_else()
    {
        var compilation = LargeFile.Compile(LargeFile.Generate());
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var diagnostics = await LargeFile.AnalyzeAsync(compilation);

        Assert.All(diagnostics, d => Assert.Equal(DiagnosticDescriptors.PayloadUsedAfterReleaseId, d.Id));
        // One per method, each on the planted statement (the use of m after the finally released its frame).
        var flagged = diagnostics.Select(d =>
        {
            var node = d.Location.SourceTree!.GetRoot().FindNode(d.Location.SourceSpan);
            Assert.Equal("UseMemory(m);", node.FirstAncestorOrSelf<StatementSyntax>()!.ToString());
            return node.FirstAncestorOrSelf<MethodDeclarationSyntax>()!.Identifier.Text;
        }).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, LargeFile.Methods).Select(i => "Read" + i).Order().ToArray(), flagged);
    }
}
