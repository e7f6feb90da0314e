using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit.Abstractions;

namespace WsGen.Analyzers.Tests;

/// <summary>
/// Measures (and prints; asserts no time) what the analyzer costs on a generated file of 1,000 methods, each
/// a read loop with branches, a try/finally, a lambda and one planted use after release.
/// Run with: dotnet test tests/WsGen.Analyzers.Tests --filter LargeFileCost --logger "console;verbosity=detailed"
/// </summary>
public sealed class LargeFileCost(ITestOutputHelper output)
{
    private const int Methods = 1000;

    [Fact]
    public async Task Analyzes_1000_Methods_And_Prints_The_Time()
    {
        var source = Generate();
        var compilation = CSharpCompilation.Create(
            "Large",
            new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest)) },
            OfflineReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var warmup = await Run(compilation.Clone());
        var stopwatch = Stopwatch.StartNew();
        var (diagnostics, analyzerTime) = await Run(compilation.Clone());
        stopwatch.Stop();

        Assert.Equal(warmup.Diagnostics.Length, diagnostics.Length);
        Assert.Equal(Methods, diagnostics.Count(d => d.Id == DiagnosticDescriptors.PayloadUsedAfterReleaseId));
        Assert.DoesNotContain(diagnostics, d => d.Id != DiagnosticDescriptors.PayloadUsedAfterReleaseId);
        var message = $"WsGen analyzers on {Methods} methods ({source.Length / 1024} KiB): analyzer time {analyzerTime.TotalMilliseconds:F0} ms, " +
                      $"wall time with binding {stopwatch.ElapsedMilliseconds} ms, {diagnostics.Length} diagnostics";
        output.WriteLine(message);
        Console.WriteLine(message);
    }

    private static async Task<(ImmutableArray<Diagnostic> Diagnostics, TimeSpan AnalyzerTime)> Run(Compilation compilation)
    {
        var analyzer = new FrameFlowAnalyzer();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: true);
        var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(analyzer), options);
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        var telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None);
        return (diagnostics, telemetry.ExecutionTime);
    }

    private static string Generate()
    {
        var text = new StringBuilder(Code.Usings).Append("class Large\n{\n").Append(Code.Helpers);
        for (var i = 0; i < Methods; i++)
        {
            text.Append($$"""
                    void Read{{i}}(IWebSocketConn conn, List<int> items)
                    {
                        while (conn.IsOpen)
                        {
                            var f = conn.ReadFrame();
                            var m = f.Payload.Slice(0);
                            if (f.Opcode == WebSocketOpcode.Close)
                            {
                                f.Release();
                                return;
                            }
                            foreach (var item in items)
                            {
                                if (item == {{i}})
                                    UseMemory(m.Slice(item));
                            }
                            try
                            {
                                Action show = () => UseMemory(f.Payload);
                                show();
                            }
                            finally
                            {
                                f.Release();
                            }
                            UseMemory(m);
                        }
                    }

                """);
        }
        return text.Append("}\n").ToString();
    }
}
