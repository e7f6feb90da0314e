using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using System.Collections.Immutable;
using Xunit.Abstractions;

namespace WsGen.Analyzers.Tests;

public sealed class DebugDump(ITestOutputHelper output)
{
    [Fact]
    public void Dump()
    {
        var src = Code.InClass("void M(IWebSocketConn conn)\n{\n var f = conn.ReadFrame();\n f.Release();\n UseMemory(f.Payload);\n}\n");
        var comp = CSharpCompilation.Create("t", new[] { CSharpSyntaxTree.ParseText(src) }, OfflineReferences.All, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        foreach (var d in comp.GetDiagnostics()) output.WriteLine(d.ToString());
        var tree = comp.SyntaxTrees[0];
        var model = comp.GetSemanticModel(tree);
        var m = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax>().First(x => x.Identifier.Text == "M");
        var op = model.GetOperation(m)!;
        output.WriteLine(op.Kind.ToString());
        var cfg = ControlFlowGraph.Create((Microsoft.CodeAnalysis.Operations.IMethodBodyOperation)op);
        foreach (var b in cfg.Blocks)
        {
            output.WriteLine($"B{b.Ordinal} {b.Kind}");
            foreach (var o in b.Operations) output.WriteLine("  " + o.Kind + " " + o.Syntax);
        }
        var types = WsGen.Analyzers.Flow.FrameTypes.Create(comp)!;
        var sym = model.GetDeclaredSymbol(m)!;
        var fnd = WsGen.Analyzers.Flow.FrameFlowAnalysis.Analyze(cfg, sym, types, default);
        output.WriteLine("uses " + fnd.Uses.Count() + " rel " + fnd.Releases.Count());
        var a = new FrameFlowAnalyzer();
        var cwa = comp.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(a), new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), (e, an, d) => output.WriteLine("EXC " + e), false, false));
        foreach (var d in cwa.GetAnalyzerDiagnosticsAsync().Result) output.WriteLine("A " + d);
        var diags = comp.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new FrameFlowAnalyzer())).GetAllDiagnosticsAsync().Result.Where(d => d.Severity > DiagnosticSeverity.Hidden);
        foreach (var d in diags) output.WriteLine(d.ToString());
    }
}
