// Micro-benchmarks of the protocol's hot spots and of the analyzer on a large file. Run all (from the repository root):
// dotnet run -c Release --project bench/WsGen.Benchmarks
// or pick with a filter: ... -- --filter "*Unmask*" (bench/README.md has the command used for bench/results/micro.md).
// The analyzer's cost in CPU time rather than elapsed time (AnalyzerCpuTime): ... -- analyzer-cpu [rounds]
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using WsGen.Benchmarks;

if (args.Length > 0 && args[0] == "analyzer-cpu")
{
    AnalyzerCpuTime.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
    .Run(args, DefaultConfig.Instance.AddColumn(new ThroughputColumn()));
