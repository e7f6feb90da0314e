using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace WsGen.Analyzers.Tests;

/// <summary>
/// Large generated files for the analyzer. <see cref="Generate"/>: <c>Read0</c> … <c>ReadN</c>, each a read loop with
/// branches, a try/finally, a lambda and one planted use of a payload after its frame's release (the last
/// <c>UseMemory(m)</c>). <see cref="GenerateWithHelpers"/>: <c>Handle0</c> … <c>HandleN</c>, the same loop where every
/// release and every other read of the frame goes through helpers of its own two or three calls deep, and one planted use
/// after the helper that releases. The tests check what the analyzer finds in them (<c>LargeFileTests</c>);
/// bench/WsGen.Benchmarks links this file to time the analyzer on them (AnalyzerBenchmarks). Needs nothing but Roslyn and
/// <see cref="OfflineReferences"/>.
/// </summary>
internal static class LargeFile
{
    /// <summary>The methods of the file both the test and the benchmark use.</summary>
    public const int Methods = 1000;

    /// <summary>The source of a class of <paramref name="methods"/> methods.</summary>
    public static string Generate(int methods = Methods)
    {
        var text = ClassStart("Large");
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

    /// <summary>The helpers each handler of <see cref="GenerateWithHelpers"/> has (not counting the handler).</summary>
    public const int HelpersPerHandler = 6;

    /// <summary>The source of a class of <paramref name="handlers"/> handlers, each with its own
    /// <see cref="HelpersPerHandler"/> helpers.</summary>
    public static string GenerateWithHelpers(int handlers = Methods)
    {
        var text = ClassStart("LargeWithHelpers");
        for (var i = 0; i < handlers; i++)
        {
            text.Append($$"""
                    void Handle{{i}}(IWebSocketConn conn, List<int> items)
                    {
                        while (conn.IsOpen)
                        {
                            var f = conn.ReadFrame();
                            var m = f.Payload.Slice(0);
                            if (f.Opcode == WebSocketOpcode.Close)
                            {
                                Close{{i}}(f);
                                return;
                            }
                            foreach (var item in items)
                            {
                                if (item == {{i}})
                                    Inspect{{i}}(f, item);
                            }
                            Forward{{i}}(f);
                            UseMemory(m);
                        }
                    }

                    void Close{{i}}(WebSocketFrame frame) => Finish{{i}}(frame);

                    void Inspect{{i}}(WebSocketFrame frame, int item)
                    {
                        if (item > 0)
                            Show{{i}}(frame);
                    }

                    void Show{{i}}(WebSocketFrame frame) => UseMemory(frame.Payload);

                    void Forward{{i}}(WebSocketFrame frame)
                    {
                        try
                        {
                            Send{{i}}(frame);
                        }
                        finally
                        {
                            Finish{{i}}(frame);
                        }
                    }

                    void Send{{i}}(WebSocketFrame frame) => Show{{i}}(frame);

                    void Finish{{i}}(WebSocketFrame frame)
                    {
                        if (!frame.IsReleased)
                            frame.Release();
                    }

                """);
        }
        return text.Append("}\n").ToString();
    }

    private static StringBuilder ClassStart(string name) =>
        new StringBuilder("using System;\nusing System.Collections.Generic;\nusing WsGen;\n\n")
            .Append("class ").Append(name).Append("\n{\n")
            .Append("    static void UseMemory(ReadOnlyMemory<byte> data) { }\n");

    /// <summary>A library compilation of <paramref name="source"/> against the offline references.</summary>
    public static CSharpCompilation Compile(string source) => CSharpCompilation.Create(
        "Large",
        [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
        OfflineReferences.All,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    /// <summary>The diagnostics of the WsGen frame analyzer on <paramref name="compilation"/>, analyzed on one
    /// thread (as the measurement wants it: no parallelism on a shared machine) unless <paramref name="concurrent"/>;
    /// <paramref name="analyzer"/> replaces the analyzer of this build (the benchmark passes an earlier build's).</summary>
    public static Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, bool concurrent = false, DiagnosticAnalyzer? analyzer = null)
    {
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: concurrent, logAnalyzerExecutionTime: false);
        return compilation
            .WithAnalyzers(ImmutableArray.Create(analyzer ?? new FrameFlowAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync();
    }
}
