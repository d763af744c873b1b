using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Tessera.Benchmarks.SessionBenchmarks).Assembly).Run(args);
