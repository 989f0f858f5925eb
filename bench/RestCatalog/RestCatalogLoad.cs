using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using DataPlane.Catalog.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Benchmarks.RestCatalog;

/// <summary>
/// Load driver for the Iceberg REST catalog on a real Kestrel port (local-folder warehouse, SQLite store):
/// load-table closed-loop throughput with 32 clients, load-table latency paced at a fixed rate, commits/s on one
/// table (one writer chaining appends; 32 appenders racing with 409 + retry; 32 writers whose commits do not conflict,
/// which the catalog groups into one metadata file and one swap) and across 100 tables. The baseline, in the same run, is raw SQLite doing the catalog's core statement
/// (point lookup of a metadata location; compare-and-swap UPDATE) with no HTTP and no metadata file, i.e. the floor
/// a SQLite-backed catalog cannot beat.
/// The one-writer scenario also reports CPU per commit: the whole process's (server and in-process client), and the
/// client's own share (building the request, reading the answer), so the server's cost shows through a shared machine's noise.
/// Run: <c>dotnet run -c Release --project bench -- rest-catalog [--seconds 5] [--rate 1000] [--commits 1000] [--one-writer-only]</c>;
/// with <c>DOTNET_gcServer=1 DOTNET_TieredPGO=0</c> the process runs as <c>dataplane serve</c> does. Figures: bench/RestCatalog/README.md.
/// </summary>
internal static class RestCatalogLoad
{
    private const int Clients = 32;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = double.Parse(Option(args, "--seconds") ?? "5", CultureInfo.InvariantCulture);
        var rate = int.Parse(Option(args, "--rate") ?? "1000", CultureInfo.InvariantCulture);
        var commits = int.Parse(Option(args, "--commits") ?? "1000", CultureInfo.InvariantCulture);
        var folder = Path.Combine(Path.GetTempPath(), "dataplane-bench-rest-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            var options = new RestCatalogOptions { WarehouseLocation = Path.Combine(folder, "warehouse"), DatabasePath = Path.Combine(folder, "catalog.db") };
            // As dataplane serve does: no config reload, whose watcher would hear of every metadata file the commits write.
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = folder, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddIcebergRestCatalog(options);
            await using var app = builder.Build();
            app.MapIcebergRestCatalog();
            await app.StartAsync();
            var baseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/iceberg/");
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = baseUri };

            // Manifest lists (never read) are named in the warehouse: the catalog refuses references outside it.
            _warehouse = new Uri(Path.Combine(folder, "warehouse") + "/").ToString().TrimEnd('/');
            await Send(http, HttpMethod.Post, "v1/namespaces", """{"namespace":["bench"]}""");
            for (var t = 0; t < 100; t++)
                await Send(http, HttpMethod.Post, "v1/namespaces/bench/tables", CreateTable($"t{t}"));
            // A realistic load target: a table with 50 snapshots of history.
            var history = await LoadState(http, "t0");
            for (var i = 0; i < 50; i++) history = await CommitAppend(http, "t0", history) ?? throw new InvalidOperationException("setup lost a race");
            // Warm-up, so that the commit path runs JIT-optimized as in a server that has been up a while: otherwise the
            // measured commits pay for the tiered JIT recompiling them (a third of the process's CPU in a 1,000-commit run).
            await Send(http, HttpMethod.Post, "v1/namespaces/bench/tables", CreateTable("warm-up"));
            var warm = await LoadState(http, "warm-up");
            var warmUntil = Stopwatch.GetTimestamp() + (long)(Warmup.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < warmUntil) warm = await CommitAppend(http, "warm-up", warm) ?? throw new InvalidOperationException("warm-up lost a race");

            Console.WriteLine($"REST catalog load driver: {Clients} clients, {Environment.ProcessorCount} cores, {seconds}s per phase; load average at start: {LoadAverage()}");
            Console.WriteLine($"runtime: server GC {(System.Runtime.GCSettings.IsServerGC ? "on" : "off")}, tiered PGO {(TieredPgo() ? "on" : "off")} (dataplane serve runs with server GC on and tiered PGO off: DOTNET_gcServer=1 DOTNET_TieredPGO=0 to match)");
            if (args.Contains("--one-writer-only"))
            {
                var alone = await CommitsSequential(http, "t1", commits);
                var swaps = RawSqliteSwaps(Path.Combine(folder, "raw.db"), commits, setUp: true);
                Console.WriteLine($"| commits, one table, one writer | {alone.PerSecond:N0} commits/s; CPU/commit {alone.ProcessCpuMs:F2} ms (client {alone.ClientCpuMs:F2} ms) | {swaps:N0} CAS/s | {swaps / alone.PerSecond:F1}x |");
                Console.WriteLine($"one writer: {alone.Gc}");
                Console.WriteLine($"load average at end: {LoadAverage()}");
                await app.StopAsync();
                return 0;
            }
            var closed = await LoadClosedLoop(http, seconds);
            var paced = await LoadPaced(http, seconds, rate);
            var oneTable = await CommitsSequential(http, "t1", commits);
            var manyTables = await CommitsAcrossTables(http, commits);
            var oneTableContended = await CommitsContended(http, "t2", commits / 2);
            var oneTableGrouped = await CommitsGrouped(http, "t3", commits * 2);
            var catalog = app.Services.GetRequiredService<DataPlane.Catalog.Rest.RestCatalog>();

            var sqliteLookups = RawSqliteLookups(Path.Combine(folder, "raw.db"), seconds);
            var sqliteSwaps = RawSqliteSwaps(Path.Combine(folder, "raw.db"), commits);

            Console.WriteLine();
            Console.WriteLine($"| measure | DataPlane REST | raw SQLite baseline | ratio |");
            Console.WriteLine($"|---|---|---|---|");
            Console.WriteLine($"| load-table, {Clients} clients closed loop | {closed.PerSecond:N0} req/s, p50 {closed.P50:F2} ms, p99 {closed.P99:F2} ms | {sqliteLookups:N0} lookups/s | {sqliteLookups / closed.PerSecond:F1}x |");
            Console.WriteLine($"| load-table paced at {rate}/s | {paced.PerSecond:N0} req/s, p50 {paced.P50:F2} ms, p99 {paced.P99:F2} ms | | |");
            Console.WriteLine($"| commits, one table, one writer | {oneTable.PerSecond:N0} commits/s; CPU/commit {oneTable.ProcessCpuMs:F2} ms (client {oneTable.ClientCpuMs:F2} ms) | {sqliteSwaps:N0} CAS/s | {sqliteSwaps / oneTable.PerSecond:F1}x |");
            Console.WriteLine($"| commits, one table, {Clients} appenders (409 + retry) | {oneTableContended.PerSecond:N0} commits/s ({oneTableContended.Conflicts} conflicts) | | |");
            Console.WriteLine($"| commits, one table, {Clients} writers, non-conflicting (grouped) | {oneTableGrouped.PerSecond:N0} commits/s, p50 {oneTableGrouped.P50:F2} ms, p99 {oneTableGrouped.P99:F2} ms | {sqliteSwaps:N0} CAS/s | {sqliteSwaps / oneTableGrouped.PerSecond:F2}x |");
            Console.WriteLine($"| commits, 100 tables, {Clients} writers | {manyTables:N0} commits/s | | |");
            Console.WriteLine($"one writer: {oneTable.Gc}");
            Console.WriteLine($"load average at end: {LoadAverage()} (figures taken on a shared machine swing with it; compare the ratios)");
            Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MB (server and clients in one process); metadata cache: {catalog.Files.Cache.Count} files, ~{catalog.Files.Cache.Weight / (1024 * 1024)} MB");
            await app.StopAsync();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
        return 0;
    }

    private sealed record Latency(double PerSecond, double P50, double P99);

    private static async Task<Latency> LoadClosedLoop(HttpClient http, double seconds)
    {
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var samples = new List<double>[Clients];
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var mine = samples[c] = new List<double>(100_000);
            while (Stopwatch.GetTimestamp() < until)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var r = await http.GetAsync("v1/namespaces/bench/tables/t0");
                await r.Content.CopyToAsync(Stream.Null);
                if (r.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"load-table: {r.StatusCode}");
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return Summarize(samples, elapsed);
    }

    private static async Task<Latency> LoadPaced(HttpClient http, double seconds, int rate)
    {
        // Each client sends at rate/Clients per second on its own schedule; latency is measured from the scheduled send.
        var perClient = (double)rate / Clients;
        var samples = new List<double>[Clients];
        var start = Stopwatch.GetTimestamp();
        var total = (int)(seconds * perClient);
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var mine = samples[c] = new List<double>(total);
            var offset = c / (double)Clients / perClient;
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)((offset + i / perClient) * Stopwatch.Frequency);
                var wait = (due - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency;
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait));
                var t0 = Stopwatch.GetTimestamp();
                using var r = await http.GetAsync("v1/namespaces/bench/tables/t0");
                await r.Content.CopyToAsync(Stream.Null);
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        })));
        return Summarize(samples, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private sealed record Sequential(double PerSecond, double ProcessCpuMs, double ClientCpuMs, string Gc);

    private static async Task<Sequential> CommitsSequential(HttpClient http, string table, int count)
    {
        // As Iceberg clients do, each commit builds on the metadata the previous commit's answer carried.
        var state = await LoadState(http, table);
        var clientCpu = new ClientCpu();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        int g0 = GC.CollectionCount(0), g2 = GC.CollectionCount(2);
        var alloc = GC.GetTotalAllocatedBytes();
        var pause = GC.GetTotalPauseDuration();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
            state = await CommitAppend(http, table, state, clientCpu) ?? throw new InvalidOperationException("a lone writer lost a race");
        var elapsed = sw.Elapsed.TotalSeconds;
        var gc = $"{GC.CollectionCount(2) - g2} full GCs ({GC.CollectionCount(0) - g0} in all), {(GC.GetTotalAllocatedBytes() - alloc) / count / 1024} KB allocated and {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds / count:F2} ms paused per commit";
        var processCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        return new Sequential(count / elapsed, processCpu / count, clientCpu.Milliseconds / count, gc);
    }

    /// <summary>CPU time of the client's synchronous work (thread CPU clock: the work does not hop threads in between).</summary>
    private sealed class ClientCpu
    {
        private long _nanoseconds;
        public double Milliseconds => _nanoseconds / 1e6;
        public long Start() => ThreadCpuNanoseconds();
        public void Stop(long start) => _nanoseconds += ThreadCpuNanoseconds() - start;

        private static long ThreadCpuNanoseconds()
        {
            if (!OperatingSystem.IsLinux()) return 0;
            clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var t);
            return t.Seconds * 1_000_000_000 + t.Nanoseconds;
        }

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [System.Runtime.InteropServices.DllImport("libc")]
        private static extern int clock_gettime(int clock, out TimeSpec time);
    }

    private static async Task<Latency> CommitsGrouped(HttpClient http, string table, int count)
    {
        var uuid = ReadTop(Encoding.UTF8.GetBytes(await Send(http, HttpMethod.Get, $"v1/namespaces/bench/tables/{table}", null)), "table-uuid");
        var next = -1;
        var samples = new List<double>[Clients];
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var mine = samples[c] = new List<double>(count / Clients + 1);
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                // A writer recording its progress: guarded by the table's identity only, so concurrent ones all land.
                var body = "{\"requirements\":[{\"type\":\"assert-table-uuid\",\"uuid\":\"" + uuid + "\"}],\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"writer-" + c + "\":\"" + i + "\"}}]}";
                var t0 = Stopwatch.GetTimestamp();
                await Send(http, HttpMethod.Post, $"v1/namespaces/bench/tables/{table}", body);
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        })));
        return Summarize(samples, sw.Elapsed.TotalSeconds);
    }

    private static async Task<double> CommitsAcrossTables(HttpClient http, int count)
    {
        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
                await CommitAppendRetrying(http, $"t{i % 100}");
        })));
        return count / sw.Elapsed.TotalSeconds;
    }

    private static async Task<(double PerSecond, int Conflicts)> CommitsContended(HttpClient http, string table, int count)
    {
        var next = -1;
        var conflicts = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
                Interlocked.Add(ref conflicts, await CommitAppendRetrying(http, table));
        })));
        return (count / sw.Elapsed.TotalSeconds, conflicts);
    }

    private static async Task<int> CommitAppendRetrying(HttpClient http, string table)
    {
        for (var conflicts = 0; ; conflicts++)
            if (await CommitAppend(http, table, await LoadState(http, table)) is not null) return conflicts;
    }

    private static long _snapshotIds = 1;
    private static string _warehouse = "";

    /// <summary>What an appender needs of the table: main's snapshot and the last sequence number.</summary>
    private sealed record TableState(long? CurrentSnapshotId, long LastSequenceNumber);

    private static async Task<TableState> LoadState(HttpClient http, string table) =>
        ReadState(Encoding.UTF8.GetBytes(await Send(http, HttpMethod.Get, $"v1/namespaces/bench/tables/{table}", null)));

    /// <summary>Commits one append on top of <paramref name="state"/>; the new state, or null when another writer got there first.</summary>
    private static async Task<TableState?> CommitAppend(HttpClient http, string table, TableState state, ClientCpu? cpu = null)
    {
        var started = cpu?.Start() ?? 0;
        var parent = state.CurrentSnapshotId;
        var id = Interlocked.Increment(ref _snapshotIds);
        var body = new JsonObject
        {
            ["requirements"] = new JsonArray(new JsonObject { ["type"] = "assert-ref-snapshot-id", ["ref"] = "main", ["snapshot-id"] = parent }),
            ["updates"] = new JsonArray(
                new JsonObject
                {
                    ["action"] = "add-snapshot",
                    ["snapshot"] = new JsonObject
                    {
                        ["snapshot-id"] = id, ["parent-snapshot-id"] = parent, ["sequence-number"] = state.LastSequenceNumber + 1,
                        ["timestamp-ms"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ["manifest-list"] = $"{_warehouse}/bench/snap-{id}.avro",
                        ["summary"] = new JsonObject { ["operation"] = "append" }, ["schema-id"] = 0,
                    },
                },
                new JsonObject { ["action"] = "set-snapshot-ref", ["ref-name"] = "main", ["type"] = "branch", ["snapshot-id"] = id }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/namespaces/bench/tables/{table}") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        cpu?.Stop(started);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.Conflict) return null;
        // The whole answer is read, as any client does, but into a buffer used again for the next commit: a real client's
        // garbage is in its own process, while this one's would land in the server's, where a large-object-heap array
        // per commit (the answer grows with the table) adds full GCs that no deployment has.
        var length = checked((int)(response.Content.Headers.ContentLength ?? throw new InvalidOperationException("commit: an answer without Content-Length")));
        var answer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await using (var stream = await response.Content.ReadAsStreamAsync())
                await stream.ReadExactlyAsync(answer.AsMemory(0, length));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"commit: {response.StatusCode} {Encoding.UTF8.GetString(answer, 0, length)}");
            started = cpu?.Start() ?? 0;
            var next = ReadState(answer.AsSpan(0, length));
            cpu?.Stop(started);
            return next;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(answer);
        }
    }

    /// <summary>Reads the two numbers from a LoadTableResult or CommitTableResponse without building a document: the
    /// metadata grows with every snapshot, and the client must not be what the benchmark measures.</summary>
    private static TableState ReadState(ReadOnlySpan<byte> answer)
    {
        var current = ReadTop(answer, "current-snapshot-id");
        var sequence = ReadTop(answer, "last-sequence-number");
        return new TableState(current is null or "-1" ? null : long.Parse(current, CultureInfo.InvariantCulture),
            sequence is null ? 0 : long.Parse(sequence, CultureInfo.InvariantCulture));
    }

    /// <summary>A scalar property of the answer's <c>metadata</c> object, as text.</summary>
    private static string? ReadTop(ReadOnlySpan<byte> answer, string property)
    {
        var reader = new Utf8JsonReader(answer);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isMetadata = reader.ValueTextEquals("metadata");
            reader.Read();
            if (!isMetadata)
            {
                reader.Skip();
                continue;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var found = reader.ValueTextEquals(property);
                reader.Read();
                if (found) return reader.TokenType == JsonTokenType.String ? reader.GetString() : Encoding.UTF8.GetString(reader.ValueSpan);
                reader.Skip();
            }
            return null;
        }
        return null;
    }

    private static double RawSqliteLookups(string path, double seconds)
    {
        using var c = new SqliteConnection($"Data Source={path}");
        c.Open();
        c.Execute("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(namespace TEXT, name TEXT, metadata_location TEXT, PRIMARY KEY(namespace, name));");
        for (var i = 0; i < 100; i++) c.Execute("INSERT OR REPLACE INTO t VALUES ('bench', @n, @l)", new { n = $"t{i}", l = $"file:///m/{i}.json" });
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var count = 0L;
        var sw = Stopwatch.StartNew();
        Parallel.For(0, Clients, _ =>
        {
            using var conn = new SqliteConnection($"Data Source={path}");
            conn.Open();
            var local = 0L;
            while (Stopwatch.GetTimestamp() < until)
            {
                conn.QuerySingle<string>("SELECT metadata_location FROM t WHERE namespace = 'bench' AND name = 't0'");
                local++;
            }
            Interlocked.Add(ref count, local);
        });
        return count / sw.Elapsed.TotalSeconds;
    }

    private static double RawSqliteSwaps(string path, int count, bool setUp = false)
    {
        using var c = new SqliteConnection($"Data Source={path}");
        c.Open();
        if (setUp)
            c.Execute("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(namespace TEXT, name TEXT, metadata_location TEXT, PRIMARY KEY(namespace, name)); INSERT OR REPLACE INTO t VALUES ('bench', 't1', 'file:///m/1.json');");
        c.Execute("PRAGMA synchronous=FULL;");
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            using var tx = c.BeginTransaction(deferred: false);
            var n = c.Execute("UPDATE t SET metadata_location = @next WHERE namespace = 'bench' AND name = 't1' AND metadata_location = @prev",
                new { next = $"file:///m/{i + 1}.json", prev = i == 0 ? "file:///m/1.json" : $"file:///m/{i}.json" }, tx);
            tx.Commit();
        }
        return count / sw.Elapsed.TotalSeconds;
    }

    private static Latency Summarize(List<double>[] samples, double seconds)
    {
        var all = samples.SelectMany(s => s).Order().ToArray();
        return new Latency(all.Length / seconds, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static async Task<string> Send(HttpClient http, HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        return text;
    }

    private static string CreateTable(string name) =>
        "{\"name\":\"" + name + "\",\"schema\":{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},{\"id\":2,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]}}";

    private static bool TieredPgo() =>
        Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is { } env ? env != "0" : AppContext.GetData("System.Runtime.TieredPGO") is not (false or "false");

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
