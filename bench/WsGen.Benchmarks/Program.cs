// Micro-benchmarks of the protocol's hot spots and of the analyzer on a large file. Run all (from the repository root):
// dotnet run -c Release --project bench/WsGen.Benchmarks
// or pick with a filter: ... -- --filter "*Unmask*" (bench/README.md has the command used for bench/results/micro.md).
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using WsGen.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
    .Run(args, DefaultConfig.Instance.AddColumn(new ThroughputColumn()));
