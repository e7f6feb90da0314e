using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace WsGen.Analyzers.Tests;

/// <summary>
/// What the analyzer finds in <see cref="LargeFile"/>'s generated files. Untimed: the time it takes is
/// measured by AnalyzerBenchmarks in bench/WsGen.Benchmarks (see bench/README.md).
/// </summary>
public sealed class LargeFileTests
{
    [Fact]
    public Task Finds_the_one_planted_use_after_release_in_each_of_1000_methods_and_nothing_else() =>
        FindsOnePlantedUsePerMethod(LargeFile.Generate(), "Read");

    [Fact]
    public Task Finds_the_one_planted_use_after_a_helper_released_in_each_of_1000_handlers_and_nothing_else() =>
        FindsOnePlantedUsePerMethod(LargeFile.GenerateWithHelpers(), "Handle");

    /// <summary>Exactly one WSG001 in each method named <paramref name="prefix"/>N, on the planted statement (the use of
    /// m after its frame was released, by a finally or by a helper), and nothing else.</summary>
    private static async Task FindsOnePlantedUsePerMethod(string source, string prefix)
    {
        var compilation = LargeFile.Compile(source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var diagnostics = await LargeFile.AnalyzeAsync(compilation);

        Assert.All(diagnostics, d => Assert.Equal(DiagnosticDescriptors.PayloadUsedAfterReleaseId, d.Id));
        var flagged = diagnostics.Select(d =>
        {
            var node = d.Location.SourceTree!.GetRoot().FindNode(d.Location.SourceSpan);
            Assert.Equal("UseMemory(m);", node.FirstAncestorOrSelf<StatementSyntax>()!.ToString());
            Assert.Equal("'m' uses the payload of a WebSocketFrame after Release() ran on every path; the buffer belongs to the pool again", d.GetMessage());
            return node.FirstAncestorOrSelf<MethodDeclarationSyntax>()!.Identifier.Text;
        }).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, LargeFile.Methods).Select(i => prefix + i).Order().ToArray(), flagged);
    }

    [Fact]
    public async Task Concurrent_analysis_finds_the_same_as_analysis_on_one_thread()
    {
        // Summaries are shared by the analyzer's concurrent callbacks: the findings must not depend on the order.
        var source = LargeFile.GenerateWithHelpers(200) + HelperChains;
        var sequential = await LargeFile.AnalyzeAsync(LargeFile.Compile(source));
        var concurrent = await LargeFile.AnalyzeAsync(LargeFile.Compile(source), concurrent: true);

        Assert.Equal(200 + 2, sequential.Length);
        Assert.Equal(Describe(sequential), Describe(concurrent));
    }

    /// <summary>Helpers reaching a recursive one (unknown) and a plain chain (known), called from several methods.</summary>
    private const string HelperChains = """

        class Chains
        {
            static void UseMemory(ReadOnlyMemory<byte> data) { }
            void A(WebSocketFrame f) { B(f); UseMemory(f.Payload); }
            void B(WebSocketFrame f) => C(f);
            void C(WebSocketFrame f) { if (f.IsFinal) B(f); else f.Release(); }
            void D(WebSocketFrame f) { C(f); UseMemory(f.Payload); }
            void E(WebSocketFrame f) { G(f); UseMemory(f.Payload); }
            void F(WebSocketFrame f) { G(f); f.Release(); }
            void G(WebSocketFrame f) => H(f);
            void H(WebSocketFrame f) => f.Release();
        }

        """;

    private static string[] Describe(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Select(d => $"{d.Id} {d.Location.GetLineSpan()} {d.GetMessage()}").Order().ToArray();
}
