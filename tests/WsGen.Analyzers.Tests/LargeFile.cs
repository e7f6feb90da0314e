using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace WsGen.Analyzers.Tests;

/// <summary>
/// A large generated file for the analyzer: <c>Read0</c> … <c>ReadN</c>, each a read loop with branches, a
/// try/finally, a lambda and one planted use of a payload after its frame's release (the last <c>UseMemory(m)</c>).
/// The tests check what the analyzer finds in it (<c>LargeFileTests</c>); bench/WsGen.Benchmarks links this
/// file to time the analyzer on it (AnalyzerBenchmarks). Needs nothing but Roslyn and <see cref="OfflineReferences"/>.
/// </summary>
internal static class LargeFile
{
    /// <summary>The methods of the file both the test and the benchmark use.</summary>
    public const int Methods = 1000;

    /// <summary>The source of a class of <paramref name="methods"/> methods.</summary>
    public static string Generate(int methods = Methods)
    {
        var text = new StringBuilder("using System;\nusing System.Collections.Generic;\nusing WsGen;\n\n")
            .Append("class Large\n{\n")
            .Append("    static void UseMemory(ReadOnlyMemory<byte> data) { }\n");
        for (var i = 0; i < methods; i++)
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

    /// <summary>A library compilation of <paramref name="source"/> against the offline references.</summary>
    public static CSharpCompilation Compile(string source) => CSharpCompilation.Create(
        "Large",
        [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
        OfflineReferences.All,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    /// <summary>The diagnostics of the WsGen frame analyzer on <paramref name="compilation"/>, analyzed on one
    /// thread (as the measurement wants it: no parallelism on a shared machine).</summary>
    public static Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation)
    {
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        return compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new FrameFlowAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync();
    }
}
