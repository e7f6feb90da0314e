using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using WsGen.Analyzers;
using WsGen.Analyzers.Tests;

namespace WsGen.Benchmarks;

/// <summary>
/// What the WsGen frame analyzer costs on a large file: <see cref="LargeFile"/>'s class of <see cref="Methods"/>
/// methods, each a read loop with branches, a try/finally, a lambda and one use after release. One operation
/// compiles a fresh copy of the compilation (<see cref="Compilation.Clone"/> drops what was bound) and either binds
/// every method body (<see cref="Binding"/>, the compiler's own diagnostics: the baseline) or runs the analyzer
/// over it, which binds the same bodies first (<see cref="BindingAndAnalyzer"/>). The difference is the analyzer.
/// </summary>
[MemoryDiagnoser]
public class AnalyzerBenchmarks
{
    private Compilation _compilation = null!;

    [Params(LargeFile.Methods)]
    public int Methods { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _compilation = LargeFile.Compile(LargeFile.Generate(Methods));
        if (Binding() != 0)
            throw new InvalidOperationException("The generated file does not compile.");
        if (BindingAndAnalyzer() != Methods)
            throw new InvalidOperationException("The analyzer did not find the one planted use after release per method.");
    }

    /// <summary>Binds the whole file and returns its errors (none).</summary>
    [Benchmark(Baseline = true)]
    public int Binding() => _compilation.Clone().GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Binds the whole file and runs the analyzer on one thread; returns its diagnostics (one per method).</summary>
    [Benchmark]
    public int BindingAndAnalyzer() => LargeFile.AnalyzeAsync(_compilation.Clone()).GetAwaiter().GetResult()
        .Count(d => d.Id == DiagnosticDescriptors.PayloadUsedAfterReleaseId);
}
