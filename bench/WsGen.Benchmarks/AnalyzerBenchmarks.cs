using System.Reflection;
using System.Runtime.Loader;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using WsGen.Analyzers;
using WsGen.Analyzers.Tests;

namespace WsGen.Benchmarks;

/// <summary>
/// What the WsGen frame analyzer costs on a large file of <see cref="LargeFile.Methods"/> handlers: <c>Plain</c>, each
/// a read loop with branches, a try/finally, a lambda and one use after release (<see cref="LargeFile.Generate"/>);
/// <c>Helpers</c>, the same loop where every release and read goes through helpers two or three calls deep, six per
/// handler (<see cref="LargeFile.GenerateWithHelpers"/>). One operation compiles a fresh copy of the compilation
/// (<see cref="Compilation.Clone"/> drops what was bound) and either binds every method body (<see cref="Binding"/>,
/// the compiler's own diagnostics: the baseline) or runs the analyzer over it, which binds the same bodies first
/// (<see cref="BindingAndAnalyzer"/>). The difference is the analyzer.
/// </summary>
/// <remarks>
/// With the environment variable <c>WSGEN_BASELINE_ANALYZER</c> naming the WsGen.Analyzers.dll of an earlier build,
/// the <see cref="Analyzer"/> parameter also takes <c>baseline</c>: that build's analyzer, loaded on its own, measured
/// in the same run (see bench/README.md).
/// </remarks>
[MemoryDiagnoser]
public class AnalyzerBenchmarks
{
    internal const string BaselineVariable = "WSGEN_BASELINE_ANALYZER";

    private Compilation _compilation = null!;
    private DiagnosticAnalyzer _analyzer = null!;

    /// <summary>Which generated file: <c>Plain</c> or <c>Helpers</c>.</summary>
    [Params("Plain", "Helpers")]
    public string File { get; set; } = "Plain";

    /// <summary>Which analyzer: <c>current</c> (this build) or <c>baseline</c> (<c>WSGEN_BASELINE_ANALYZER</c>).</summary>
    [ParamsSource(nameof(Analyzers))]
    public string Analyzer { get; set; } = "current";

    public static IEnumerable<string> Analyzers() =>
        Environment.GetEnvironmentVariable(BaselineVariable) is { Length: > 0 } ? ["current", "baseline"] : ["current"];

    [GlobalSetup]
    public void Setup()
    {
        _analyzer = Create(Analyzer);
        _compilation = Compile(File);
        if (Binding() != 0)
            throw new InvalidOperationException("The generated file does not compile.");
        // An earlier analyzer may not see through helpers; on the plain file every build finds the planted uses.
        if ((Analyzer == "current" || File == "Plain") && BindingAndAnalyzer() != LargeFile.Methods)
            throw new InvalidOperationException("The analyzer did not find the one planted use after release per handler.");
    }

    /// <summary>Binds the whole file and returns its errors (none).</summary>
    [Benchmark(Baseline = true)]
    public int Binding() => _compilation.Clone().GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Binds the whole file and runs the analyzer on one thread; returns its WSG001 findings (one per handler).</summary>
    [Benchmark]
    public int BindingAndAnalyzer() => LargeFile.AnalyzeAsync(_compilation.Clone(), analyzer: _analyzer).GetAwaiter().GetResult()
        .Count(d => d.Id == DiagnosticDescriptors.PayloadUsedAfterReleaseId);

    /// <summary>The compilation of the generated file <paramref name="file"/> (<c>Plain</c> or <c>Helpers</c>).</summary>
    internal static Compilation Compile(string file) =>
        LargeFile.Compile(file == "Helpers" ? LargeFile.GenerateWithHelpers() : LargeFile.Generate());

    /// <summary>The analyzer <paramref name="which"/> names: <c>current</c> or <c>baseline</c>.</summary>
    internal static DiagnosticAnalyzer Create(string which) => which == "baseline" ? LoadBaseline() : new FrameFlowAnalyzer();

    /// <summary>The earlier build's analyzer, in a load context of its own (Roslyn itself comes from this process).</summary>
    private static DiagnosticAnalyzer LoadBaseline()
    {
        var path = Path.GetFullPath(Environment.GetEnvironmentVariable(BaselineVariable)!);
        var assembly = new BaselineContext(path).LoadFromAssemblyPath(path);
        var type = assembly.GetType(typeof(FrameFlowAnalyzer).FullName!, throwOnError: true)!;
        return (DiagnosticAnalyzer)Activator.CreateInstance(type)!;
    }

    private sealed class BaselineContext(string path) : AssemblyLoadContext("WsGen baseline analyzer")
    {
        protected override Assembly? Load(AssemblyName name) =>
            name.Name == Path.GetFileNameWithoutExtension(path) ? LoadFromAssemblyPath(path) : null;
    }
}
