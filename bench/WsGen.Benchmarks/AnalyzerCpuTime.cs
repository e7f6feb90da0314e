using System.Diagnostics;
using Microsoft.CodeAnalysis;
using WsGen.Analyzers.Tests;

namespace WsGen.Benchmarks;

/// <summary>
/// The work of <see cref="AnalyzerBenchmarks"/> measured in CPU time of this process rather than elapsed time: on a
/// machine whose cores other processes share, the elapsed time of an operation grows with their load, its CPU time
/// much less. Each round runs every case once, one after the other (<c>Plain</c> and <c>Helpers</c>, the current
/// analyzer and, with <c>WSGEN_BASELINE_ANALYZER</c>, the earlier one), so drifts of the machine hit all cases alike;
/// the table gives medians over the rounds, and the analyzer's own cost as BindingAndAnalyzer minus the binding of
/// the same file (over the rounds of both analyzers). Run: <c>dotnet run -c Release --project bench/WsGen.Benchmarks --
/// analyzer-cpu [rounds]</c>.
/// </summary>
internal static class AnalyzerCpuTime
{
    public static void Run(int rounds)
    {
        var cases = new List<Case>();
        foreach (var file in new[] { "Plain", "Helpers" })
        {
            var compilation = AnalyzerBenchmarks.Compile(file);
            foreach (var analyzer in AnalyzerBenchmarks.Analyzers())
                cases.Add(new Case(file, analyzer, compilation, AnalyzerBenchmarks.Create(analyzer)));
        }
        foreach (var c in cases)
        {
            // Warm-up: JIT, and a check that the work is the work measured.
            if (Bind(c.Compilation) != 0)
                throw new InvalidOperationException("The generated file does not compile.");
            var found = Analyze(c);
            Console.WriteLine($"{c.File} {c.Analyzer}: {found} WSG001 findings");
        }
        for (var round = 0; round < rounds; round++)
        {
            foreach (var c in cases)
            {
                c.Binding.Add(CpuMilliseconds(() => Bind(c.Compilation)));
                c.BindingAndAnalyzer.Add(CpuMilliseconds(() => Analyze(c)));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"CPU time, median of {rounds} rounds (ms)");
        Console.WriteLine();
        Console.WriteLine("| File | Analyzer | Methods | Binding | BindingAndAnalyzer | Analyzer | per method | per handler |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var c in cases)
        {
            var methods = c.File == "Helpers" ? LargeFile.Methods * (1 + LargeFile.HelpersPerHandler) : LargeFile.Methods;
            // Binding is the same work whichever analyzer follows: its median over every case of the file.
            var binding = Median(cases.Where(o => o.File == c.File).SelectMany(o => o.Binding).ToList());
            var total = Median(c.BindingAndAnalyzer);
            var analyzer = total - binding;
            Console.WriteLine($"| {c.File} | {c.Analyzer} | {methods:N0} | {binding:N0} | {total:N0} | {analyzer:N0} | {analyzer / methods:N3} | {analyzer / LargeFile.Methods:N3} |");
        }
    }

    private static int Bind(Compilation compilation) =>
        compilation.Clone().GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);

    private static int Analyze(Case c) =>
        LargeFile.AnalyzeAsync(c.Compilation.Clone(), analyzer: c.Instance).GetAwaiter().GetResult()
            .Count(d => d.Id == WsGen.Analyzers.DiagnosticDescriptors.PayloadUsedAfterReleaseId);

    private static double CpuMilliseconds(Action work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        work();
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed class Case(string file, string analyzer, Compilation compilation, Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer instance)
    {
        public string File { get; } = file;
        public string Analyzer { get; } = analyzer;
        public Compilation Compilation { get; } = compilation;
        public Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer Instance { get; } = instance;
        public List<double> Binding { get; } = new();
        public List<double> BindingAndAnalyzer { get; } = new();
    }
}
