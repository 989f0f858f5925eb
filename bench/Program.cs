using BenchmarkDotNet.Running;

// `dotnet run -c Release --project bench -- --filter '*'` runs every benchmark; see bench/README.md.
// Load drivers take a first argument naming them.
if (args.Length > 0 && args[0] == "rest-catalog")
    return await DataPlane.Benchmarks.RestCatalog.RestCatalogLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "table-format")
    return await DataPlane.Benchmarks.TableFormat.ParquetWriteLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "database")
    return await DataPlane.Benchmarks.Database.DatabaseWriteLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "slurp")
    return await DataPlane.Benchmarks.Slurper.SlurpVsRclone.RunAsync(args);
if (args.Length > 0 && args[0] == "pipelines-stages")
    return await DataPlane.Benchmarks.Pipelines.IngestStages.RunAsync(args);
if (args.Length > 0 && args[0] == "kafka-source")
    return await DataPlane.Benchmarks.Sources.KafkaSourceLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "kafka-backed")
    return await DataPlane.Benchmarks.Sources.KafkaBackedLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "maintenance")
    return await DataPlane.Benchmarks.Maintenance.MaintenanceLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "pipelines")
    return await DataPlane.Benchmarks.Pipelines.IngestLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "keyed-state")
    return await DataPlane.Benchmarks.SqlTransforms.KeyedStateSpill.RunAsync(args);
if (args.Length > 0 && args[0] == "nexmark")
    return await DataPlane.Benchmarks.Nexmark.NexmarkLoad.RunAsync(args);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
