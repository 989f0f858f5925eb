using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using DataPlane.Benchmarks.TableFormat;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;
using DataPlane.Storage;
using DuckDB.NET.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Benchmarks.Maintenance;

/// <summary>
/// Load driver for table maintenance (issue 18), each measurement in its own child process so its peak working set is its own:
/// <list type="number">
/// <item><c>commits-none</c> / <c>commits-maintained</c>: one writer appends a small data file per commit through the
/// REST catalog (on a real Kestrel port, local-folder warehouse), as a pipeline with a 1 s roll does; with maintenance,
/// every 60 commits (the scheduler's check, at one commit a second) expire-snapshots keeps the newest
/// <c>--keep</c> snapshots (the table's <c>max-snapshots</c> ceiling) and rewrite-manifests merges the manifests once there
/// are 100, as <c>dataplane serve</c>'s scheduler does, between two commits (they run back to back here, where a pipeline
/// leaves a second between them). Commit latency and load-table latency of the first 100 commits (a fresh table) against
/// the last 100; then load-table of the table alternating with a control table of 100 commits made at the end, so that
/// machine load, heap and JIT weigh on both alike.</item>
/// <item><c>build</c>, <c>scan</c>, <c>duckdb-copy</c>, <c>compact</c>: a table of <c>--files</c> small files; DuckDB's scan
/// of its live files before and after compaction; compaction's throughput against DuckDB's <c>COPY</c> of the same
/// files to one file (input MB/s), both checked to hold the same rows. With <c>--strategy sort --sort-order TEXT</c> the
/// compaction sorts (or z-orders); the scan also times a selective query (<c>name</c> in ['user-100', 'user-101'), 0.1% of
/// the rows) over the files the table's own planning keeps for it, where a sort on <c>name</c> leaves few.</item>
/// </list>
/// Run: <c>dotnet run -c Release --project bench -- maintenance [--commits 5000] [--keep 300] [--files 5000] [--rows-per-file 200] [--parts commits,compaction]
/// [--strategy binpack|sort] [--sort-order 'name'] [--target-bytes N]</c>.
/// Figures: bench/Maintenance/README.md.
/// </summary>
internal static class MaintenanceLoad
{
    private const int Window = 100;
    private const int CheckEveryCommits = 60;
    private const int LoadSamples = 300;

    public static async Task<int> RunAsync(string[] args)
    {
        int commits = int.Parse(Option(args, "--commits") ?? "5000", CultureInfo.InvariantCulture);
        int keep = int.Parse(Option(args, "--keep") ?? "300", CultureInfo.InvariantCulture);
        int files = int.Parse(Option(args, "--files") ?? "5000", CultureInfo.InvariantCulture);
        int rowsPerFile = int.Parse(Option(args, "--rows-per-file") ?? "200", CultureInfo.InvariantCulture);
        string dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "dataplane-bench-maintenance");
        var strategy = RewriteStrategies.Parse(Option(args, "--strategy") ?? "binpack", "--strategy");
        var sortOrder = Option(args, "--sort-order");
        long? targetBytes = Option(args, "--target-bytes") is { } t ? long.Parse(t, CultureInfo.InvariantCulture) : null;
        if (Option(args, "--variant") is { } variant)
            return await RunOneAsync(variant, dir, commits, keep, files, rowsPerFile, new RewriteDataFiles.Options { Strategy = strategy, SortOrder = sortOrder, TargetFileSizeBytes = targetBytes });

        var parts = (Option(args, "--parts") ?? "commits,compaction").Split(',');
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        Console.WriteLine($"Table maintenance benchmark, {Environment.ProcessorCount} cores; load average at start {LoadAverage()}");
        string[] Pass(string v) => ["maintenance", "--variant", v, "--dir", dir, "--commits", $"{commits}", "--keep", $"{keep}", "--files", $"{files}", "--rows-per-file", $"{rowsPerFile}",
            "--strategy", strategy.Name(), .. sortOrder is null ? System.Array.Empty<string>() : ["--sort-order", sortOrder], .. targetBytes is null ? System.Array.Empty<string>() : ["--target-bytes", $"{targetBytes}"]];
        if (parts.Contains("commits"))
        {
            var none = Child(Pass("commits-none"));
            var kept = Child(Pass("commits-maintained"));
            Console.WriteLine();
            Console.WriteLine($"(1) {commits:N0} commits of one small file each, one writer, REST catalog; fresh = commits 1-{Window}, after = the last {Window}; load-table: {LoadSamples} sequential GETs");
            Console.WriteLine("| table | commit p50 fresh / after | commit p99 fresh / after | p99 after/fresh | load-table p99 fresh / after | load p99 after/fresh | snapshots | metadata KB | manifests | peak WS MB |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var (name, r) in new[] { ("no maintenance", none), ($"maintained (keep {keep})", kept) })
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {r["commit-p50-fresh"]:F1} / {r["commit-p50-after"]:F1} ms | {r["commit-p99-fresh"]:F1} / {r["commit-p99-after"]:F1} ms | {r["commit-p99-after"] / r["commit-p99-fresh"]:F2}x " +
                    $"| {r["load-p99-fresh"]:F2} / {r["load-p99-after"]:F2} ms | {r["load-p99-after"] / r["load-p99-fresh"]:F2}x | {r["snapshots"]:F0} | {r["metadata-bytes"] / 1024:F0} | {r["manifests"]:F0} | {r["peak-ws"] / 1e6:F0} |"));
            Console.WriteLine();
            Console.WriteLine($"Load-table at the end, {LoadSamples} GETs of the table alternating with {LoadSamples} of a control table of {Window} commits made then (same process, same moment):");
            Console.WriteLine("| table | p50 table / control | p99 table / control | p99 table/control | metadata KB table / control |");
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            foreach (var (name, r) in new[] { ("no maintenance", none), ($"maintained (keep {keep})", kept) })
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {r["paired-p50-after"]:F3} / {r["paired-p50-control"]:F3} ms | {r["paired-p99-after"]:F2} / {r["paired-p99-control"]:F2} ms | {r["paired-p99-after"] / r["paired-p99-control"]:F2}x " +
                    $"| {r["metadata-bytes"] / 1024:F0} / {r["control-metadata-bytes"] / 1024:F0} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"maintained: {kept["maintenance-runs"]:F0} maintenance passes, the longest {kept["maintenance-max-ms"]:F0} ms; whole run {none["seconds"]:F0} s without, {kept["seconds"]:F0} s with"));
        }
        if (parts.Contains("compaction"))
        {
            var build = Child(Pass("build"));
            var before = Child(Pass("scan"));
            var copy = Child(Pass("duckdb-copy"));
            var compact = Child(Pass("compact"));
            var after = Child(Pass("scan"));
            var inputMb = compact["bytes-read"] / 1e6;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"(2) DuckDB scan of the live files (median of 3): before compaction {before["files"]:F0} files, {before["seconds"]:F3} s; after {after["files"]:F0} file(s), {after["seconds"]:F3} s: {before["seconds"] / after["seconds"]:F1}x faster; same rows: {(before["check"] == after["check"] ? "yes" : "NO")}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"(2b) selective query (name in ['user-100', 'user-101')) over the files the table's planning keeps, compaction {strategy.Name()}{(sortOrder is null ? "" : $" by {sortOrder}")}: before {before["selective-files"]:F0} file(s), {before["selective-seconds"]:F3} s; " +
                $"after {after["selective-files"]:F0} file(s), {after["selective-seconds"]:F3} s: {before["selective-seconds"] / after["selective-seconds"]:F1}x faster; same rows: {(before["selective-check"] == after["selective-check"] ? "yes" : "NO")}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"(3) {build["files"]:F0} files, {build["rows"]:N0} rows, {inputMb:F1} MB: compaction {compact["seconds"]:F2} s = {inputMb / compact["seconds"]:F1} MB/s, peak WS {compact["peak-ws"] / 1e6:F0} MB, {compact["files-written"]:F0} file(s), {compact["bytes-written"] / 1e6:F1} MB; " +
                $"DuckDB COPY {copy["seconds"]:F2} s = {inputMb / copy["seconds"]:F1} MB/s, peak WS {copy["peak-ws"] / 1e6:F0} MB, {copy["bytes-written"] / 1e6:F1} MB; compaction throughput / DuckDB's: {copy["seconds"] / compact["seconds"]:F2}x; same rows: {(copy["check"] == after["check"] ? "yes" : "NO")}"));
        }
        Console.WriteLine($"load average at end {LoadAverage()}");
        Directory.Delete(dir, recursive: true);
        return 0;
    }

    /// <summary>Runs one variant in a child process and returns its RESULT figures by name.</summary>
    private static Dictionary<string, double> Child(string[] args)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(MaintenanceLoad).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var result = new Dictionary<string, double>();
        foreach (var line in output.Split('\n').Where(l => l.StartsWith("RESULT ", StringComparison.Ordinal)))
        {
            var f = line.Split(' ');
            result[f[1]] = double.Parse(f[2], CultureInfo.InvariantCulture);
        }
        if (result.Count == 0 || p.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', args)} failed (exit {p.ExitCode}): {output}");
        return result;
    }

    private static void Result(string name, double value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {name} {value:R}"));

    private static async Task<int> RunOneAsync(string variant, string dir, int commits, int keep, int files, int rowsPerFile, RewriteDataFiles.Options compaction)
    {
        var sw = Stopwatch.StartNew();
        switch (variant)
        {
            case "commits-none": await CommitsAsync(Path.Combine(dir, "none"), commits, keep: null); break;
            case "commits-maintained": await CommitsAsync(Path.Combine(dir, "maintained"), commits, keep); break;
            case "build": await BuildAsync(dir, files, rowsPerFile); break;
            case "scan": await ScanAsync(dir); break;
            case "duckdb-copy": await DuckDbCopyAsync(dir); break;
            case "compact": await CompactAsync(dir, compaction); break;
            default: throw new ArgumentException($"unknown variant '{variant}'");
        }
        if (variant.StartsWith("commits", StringComparison.Ordinal)) Result("seconds", sw.Elapsed.TotalSeconds);
        using var self = Process.GetCurrentProcess();
        Result("peak-ws", self.PeakWorkingSet64);
        return 0;
    }

    // (1) Commits through the REST catalog.

    private static async Task CommitsAsync(string folder, int commits, int? keep)
    {
        Directory.CreateDirectory(folder);
        var warehouse = Path.Combine(folder, "warehouse");
        var options = new RestCatalogOptions { WarehouseLocation = warehouse, DatabasePath = Path.Combine(folder, "catalog.db") };
        // As dataplane serve does: no config reload, whose watcher would hear of every metadata file the commits write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = folder, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddIcebergRestCatalog(options);
        await using var app = builder.Build();
        app.MapIcebergRestCatalog();
        await app.StartAsync();
        try
        {
            var baseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/iceberg/");
            using var http = new HttpClient { BaseAddress = baseUri };
            using var store = ObjectStore.Open(warehouse);
            using var client = new IcebergRestClient(new Uri(baseUri.ToString().TrimEnd('/')));
            await client.InitializeAsync();
            await client.CreateNamespaceAsync(["bench"]);
            await Send(http, HttpMethod.Post, "v1/namespaces/bench/tables",
                """{"name":"events","schema":{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":2,"name":"name","required":false,"type":"string"}]}}""");
            var table = await Table.LoadAsync(store, new RestTableCommitter(client, ["bench"], "events"));
            var maintainer = await Table.LoadAsync(store, new RestTableCommitter(client, ["bench"], "events"));
            // The table's own ceiling, as the scheduler reads it: expiry keeps the newest --keep however young.
            if (keep is { } ceiling)
                await maintainer.SetPropertiesAsync(new Dictionary<string, string> { [MaintenanceSettings.MaxSnapshotsKey] = $"{ceiling}" });
            var arrow = ArrowSchemaMapping.ToArrow(table.Schema);

            var latencies = new double[commits];
            double[] loadFresh = [], loadAfter = [];
            var passes = new List<double>();
            for (int i = 0; i < commits; i++)
            {
                var batch = Batch(arrow, i);
                IReadOnlyList<Iceberg.Manifests.DataFile> written;
                await using (var writer = new TableDataWriter(table))
                {
                    await writer.WriteAsync(batch);
                    written = await writer.CompleteAsync();
                }
                var t0 = Stopwatch.GetTimestamp();
                await table.AppendAsync([.. written]);
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (i == Window - 1) loadFresh = await LoadTableAsync(http);
                // What the scheduler does at each check (every 60 s: 60 commits at one a second). The commits here run back
                // to back, not a second apart, so the pass runs where the gap between two commits would be (it takes well
                // under a second: see the longest pass printed), instead of losing every race to a writer that never pauses.
                if (keep is not null && i % CheckEveryCommits == CheckEveryCommits - 1)
                {
                    var pass = Stopwatch.GetTimestamp();
                    await new ExpireSnapshots(maintainer).RunAsync();
                    await maintainer.RefreshAsync();
                    var manifests = await Iceberg.Operations.SnapshotManifests.ReadAsync(maintainer.IO, maintainer.Metadata.CurrentSnapshot!, CancellationToken.None);
                    if (manifests.Count >= 100) await new RewriteManifests(maintainer).RunAsync();
                    passes.Add(Stopwatch.GetElapsedTime(pass).TotalMilliseconds);
                    await table.RefreshAsync();
                }
            }
            loadAfter = await LoadTableAsync(http);
            await table.RefreshAsync();
            // The same fresh window again, now, in this process: a control table of Window commits whose loads alternate
            // with the table's, so machine load, heap size and JIT state weigh on both alike and only the tables differ.
            await Send(http, HttpMethod.Post, "v1/namespaces/bench/tables",
                """{"name":"control","schema":{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":2,"name":"name","required":false,"type":"string"}]}}""");
            var control = await Table.LoadAsync(store, new RestTableCommitter(client, ["bench"], "control"));
            for (int i = 0; i < Window; i++)
            {
                await using var writer = new TableDataWriter(control);
                await writer.WriteAsync(Batch(arrow, i));
                await control.AppendAsync([.. await writer.CompleteAsync()]);
            }
            var (pairedAfter, pairedControl) = await LoadTablesAsync(http, "events", "control");
            Result("commit-p50-fresh", Percentile(latencies[..Window], 0.50));
            Result("commit-p99-fresh", Percentile(latencies[..Window], 0.99));
            Result("commit-p50-after", Percentile(latencies[^Window..], 0.50));
            Result("commit-p99-after", Percentile(latencies[^Window..], 0.99));
            Result("load-p50-fresh", Percentile(loadFresh, 0.50));
            Result("load-p99-fresh", Percentile(loadFresh, 0.99));
            Result("load-p50-after", Percentile(loadAfter, 0.50));
            Result("load-p99-after", Percentile(loadAfter, 0.99));
            Result("load-p90-fresh", Percentile(loadFresh, 0.90));
            Result("load-p90-after", Percentile(loadAfter, 0.90));
            Result("paired-p50-after", Percentile(pairedAfter, 0.50));
            Result("paired-p99-after", Percentile(pairedAfter, 0.99));
            Result("paired-p50-control", Percentile(pairedControl, 0.50));
            Result("paired-p99-control", Percentile(pairedControl, 0.99));
            Result("control-metadata-bytes", new FileInfo(new Uri(control.State.MetadataLocation).LocalPath).Length);
            Result("snapshots", table.Metadata.Snapshots.Count);
            Result("metadata-bytes", new FileInfo(new Uri(table.State.MetadataLocation).LocalPath).Length);
            Result("manifests", (await Iceberg.Operations.SnapshotManifests.ReadAsync(table.IO, table.Metadata.CurrentSnapshot!, CancellationToken.None)).Count);
            Result("maintenance-runs", passes.Count);
            Result("maintenance-max-ms", passes.Count == 0 ? 0 : passes.Max());
        }
        finally
        {
            await app.StopAsync();
            SqliteConnection.ClearAllPools();
        }
    }

    private static RecordBatch Batch(Apache.Arrow.Schema arrow, int i) => new(arrow,
    [
        new Int64Array.Builder().AppendRange(Enumerable.Range(0, 10).Select(r => (long)i * 10 + r)).Build(),
        new StringArray.Builder().AppendRange(Enumerable.Range(0, 10).Select(r => $"user-{i}-{r}")).Build(),
    ], 10);

    private static async Task<double[]> LoadTableAsync(HttpClient http, string name = "events")
    {
        var samples = new double[LoadSamples];
        for (int i = 0; i < samples.Length; i++)
            samples[i] = await LoadOnceAsync(http, name);
        return samples;
    }

    /// <summary>Loads of two tables in alternation, <see cref="LoadSamples"/> each.</summary>
    private static async Task<(double[] A, double[] B)> LoadTablesAsync(HttpClient http, string a, string b)
    {
        var (x, y) = (new double[LoadSamples], new double[LoadSamples]);
        for (int i = 0; i < LoadSamples; i++)
        {
            x[i] = await LoadOnceAsync(http, a);
            y[i] = await LoadOnceAsync(http, b);
        }
        return (x, y);
    }

    private static async Task<double> LoadOnceAsync(HttpClient http, string name)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var r = await http.GetAsync("v1/namespaces/bench/tables/" + name);
        await r.Content.CopyToAsync(Stream.Null);
        r.EnsureSuccessStatusCode();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    // (2) and (3): a table of many small files, scanned by DuckDB, compacted, copied by DuckDB.

    private static string TableFolder(string dir) => Path.Combine(dir, "small");

    private static async Task<Table> OpenAsync(string dir, IObjectStore store) =>
        await Table.LoadAsync(store, new FileTableCommitter(store, "table"));

    private static async Task BuildAsync(string dir, int files, int rowsPerFile)
    {
        using var store = ObjectStore.Open(TableFolder(dir));
        var committer = new FileTableCommitter(store, "table");
        var table = await Table.CreateAsync(store, committer, committer.TableLocation, ArrowSchemaMapping.ToIceberg(BenchRows.Schema));
        var pending = new List<Iceberg.Manifests.DataFile>();
        // One file per batch: a pipeline's rolls; appended a hundred at a time, so the table has manifests of a realistic size.
        foreach (var batch in BenchRows.Generate((long)files * rowsPerFile, rowsPerFile))
        {
            await using (var writer = new TableDataWriter(table))
            {
                await writer.WriteAsync(batch);
                pending.AddRange(await writer.CompleteAsync());
            }
            if (pending.Count == 100)
            {
                await table.AppendAsync(pending);
                pending.Clear();
            }
        }
        if (pending.Count > 0) await table.AppendAsync(pending);
        Result("files", files);
        Result("rows", (double)files * rowsPerFile);
    }

    /// <summary>The live data files of the current snapshot, as DuckDB's list literal.</summary>
    private static async Task<(string List, int Count, long Bytes)> LiveFilesAsync(Table table, Iceberg.Scanning.Expression? filter = null)
    {
        var scan = table.NewScan();
        if (filter is not null) scan.Filter(filter);
        var tasks = await scan.PlanFilesAsync();
        var list = "[" + string.Join(',', tasks.Select(t => "'" + new Uri(t.File.FilePath).LocalPath + "'")) + "]";
        return (list, tasks.Count, tasks.Sum(t => t.File.FileSizeInBytes));
    }

    private static async Task ScanAsync(string dir)
    {
        using var store = ObjectStore.Open(TableFolder(dir));
        var table = await OpenAsync(dir, store);
        var (list, count, _) = await LiveFilesAsync(table);
        using var connection = Open();
        var times = new List<double>();
        string check = "";
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            check = Check(connection, $"read_parquet({list})");
            times.Add(sw.Elapsed.TotalSeconds);
        }
        Result("seconds", Percentile([.. times], 0.5));
        Result("files", count);
        Result("check", check.Fingerprint());

        // A selective query: planning (partition and column-bounds pruning) picks the files, DuckDB reads them with the predicate.
        var (selected, selectedCount, _) = await LiveFilesAsync(table,
            Iceberg.Scanning.Expression.And(Iceberg.Scanning.Expression.GreaterThanOrEqual("name", "user-100"), Iceberg.Scanning.Expression.LessThan("name", "user-101")));
        times.Clear();
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            check = selectedCount == 0 ? "" : Check(connection, $"read_parquet({selected}) WHERE name >= 'user-100' AND name < 'user-101'");
            times.Add(sw.Elapsed.TotalSeconds);
        }
        Result("selective-seconds", Percentile([.. times], 0.5));
        Result("selective-files", selectedCount);
        Result("selective-check", check.Fingerprint());
    }

    private static async Task DuckDbCopyAsync(string dir)
    {
        using var store = ObjectStore.Open(TableFolder(dir));
        var table = await OpenAsync(dir, store);
        var (list, _, bytes) = await LiveFilesAsync(table);
        var output = Path.Combine(dir, "duckdb-copy.parquet");
        using var connection = Open();
        var sw = Stopwatch.StartNew();
        Execute(connection, $"COPY (SELECT * FROM read_parquet({list})) TO '{output}' (FORMAT parquet, COMPRESSION zstd)");
        Result("seconds", sw.Elapsed.TotalSeconds);
        Result("bytes-read", bytes);
        Result("bytes-written", new FileInfo(output).Length);
        Result("check", Check(connection, $"read_parquet('{output}')").Fingerprint());
    }

    private static async Task CompactAsync(string dir, RewriteDataFiles.Options options)
    {
        using var store = ObjectStore.Open(TableFolder(dir));
        var table = await OpenAsync(dir, store);
        var sw = Stopwatch.StartNew();
        var result = await new RewriteDataFiles(table).RunAsync(options);
        Result("seconds", sw.Elapsed.TotalSeconds);
        if (result.Failures.Count > 0) throw new InvalidOperationException(string.Join("; ", result.Failures));
        Result("bytes-read", result.BytesRead);
        Result("bytes-written", result.BytesWritten);
        Result("files-written", result.FilesWritten);
    }

    private static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        Execute(connection, "SET TimeZone = 'UTC'");
        return connection;
    }

    /// <summary>A scan of every column, whose answer says the rows are the same.</summary>
    private static string Check(DuckDBConnection connection, string from)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(id), sum(hash(name)), sum(round(value * 100)::BIGINT), sum(epoch_us(ts)) FROM {from}";
        using var reader = command.ExecuteReader();
        reader.Read();
        return string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)));
    }

    /// <summary>A number that is the same for the same text in every process (string.GetHashCode is not), exact in a double.</summary>
    private static double Fingerprint(this string text)
    {
        ulong hash = 14695981039346656037;
        foreach (var c in text) hash = (hash ^ c) * 1099511628211;
        return hash >> 12;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task Send(HttpClient http, HttpMethod method, string path, string body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string? Option(string[] args, string name)
    {
        int i = System.Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
