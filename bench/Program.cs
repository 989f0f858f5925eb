using BenchmarkDotNet.Running;

// `dotnet run -c Release --project bench -- --filter '*'` runs every benchmark; see bench/README.md.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
