// Micro-benchmarks of the protocol's hot spots. Run all: dotnet run -c Release --project bench/WsGen.Benchmarks
// or pick with a filter: ... -- --filter "*Unmask*"
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
