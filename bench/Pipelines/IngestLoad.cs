using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DataPlane.Catalog.Rest;
using DataPlane.Pipelines;
using DuckDB.NET.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Benchmarks.Pipelines;

/// <summary>
/// Load driver: ~200-byte JSON records over HTTP into a stream, through a pipeline, to a committed Iceberg
/// snapshot (records/s, MB/s, p50/p99 acknowledgement latency), against DuckDB converting the same NDJSON file
/// to zstd Parquet in the same run. <c>dotnet run -c Release --project bench -- pipelines [records] [connections]
/// [iceberg|files] [rounds] [log tail MB]</c>: with rounds &gt; 1 the first round (cold: a fresh process, Tier-0 code) is reported on
/// its own and the bodies are sent again rounds - 1 times for the sustained figure.
/// </summary>
internal static class IngestLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        int records = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500_000;
        int connections = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        string sinkType = args.Length > 3 ? args[3] : "iceberg";
        int rounds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1;
        long? tailBytes = args.Length > 5 && !args[5].StartsWith("--", StringComparison.Ordinal) ? long.Parse(args[5], CultureInfo.InvariantCulture) << 20 : null;
        // --query main: the issue's "main job" (a filter, a projection, three functions) instead of SELECT *.
        string query = args.SkipWhile(a => a != "--query").Skip(1).FirstOrDefault() is "main" ? MainJob : "SELECT * FROM events";
        var dir = Directory.CreateTempSubdirectory("bench-pipelines-").FullName;
        try
        {
            var ndjson = Path.Combine(dir, "records.ndjson");
            var bodies = MakeBodies(ndjson, records, maxBody: 1_000_000);
            long jsonBytes = new FileInfo(ndjson).Length;
            Console.WriteLine($"query: {query}");
            Console.WriteLine($"{records:N0} records, {jsonBytes / 1e6:F1} MB of NDJSON ({jsonBytes / (double)records:F0} B/record), {bodies.Count} requests, {connections} connections, {sinkType} sink, log tail {(tailBytes is { } t ? $"{t >> 20} MB" : "default")}");

            string loadBefore = IngestStages.LoadAverage();
            var phases = await RunDataPlaneAsync(dir, bodies, connections, sinkType, rounds, tailBytes, query);
            long dpParquet = Directory.EnumerateFiles(Path.Combine(dir, "warehouse"), "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            var duckParquet = Path.Combine(dir, "duckdb.parquet");
            var (duckSeconds, duckCpu) = RunDuckDb(ndjson, duckParquet, query);

            double mb = jsonBytes / 1e6;
            double duckMBs = mb / duckSeconds;
            Console.WriteLine();
            Console.WriteLine("| path | seconds | records/s | MB/s of JSON | CPU s | MB of JSON per CPU-second | ack p50 ms | ack p99 ms | Parquet MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var phase in phases)
            {
                double phaseMb = mb * phase.Rounds;
                Console.WriteLine($"| DataPlane HTTP -> log -> pipeline -> committed snapshot, {phase.Name} | {phase.Seconds:F2} | {(double)records * phase.Rounds / phase.Seconds:N0} | {phaseMb / phase.Seconds:F1} | {phase.CpuSeconds:F2} | {phaseMb / phase.CpuSeconds:F1} | {phase.P50:F1} | {phase.P99:F1} | {(phase == phases[^1] ? $"{dpParquet / 1e6:F1} (all rounds)" : "")} |");
            }
            Console.WriteLine($"| DuckDB COPY (query over read_json with the column types) TO parquet zstd | {duckSeconds:F2} | {records / duckSeconds:N0} | {duckMBs:F1} | {duckCpu:F2} | {mb / duckCpu:F1} | | | {new FileInfo(duckParquet).Length / 1e6:F1} |");
            foreach (var phase in phases)
                Console.WriteLine($"ratio DataPlane ({phase.Name}) / DuckDB: {mb * phase.Rounds / phase.Seconds / duckMBs:F2} by wall time, {duckCpu / (phase.CpuSeconds / phase.Rounds):F2} by CPU time");
            Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB; " +
                $"load average before {loadBefore}, after {IngestStages.LoadAverage()} ({Environment.ProcessorCount} cores)");
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Writes the NDJSON file and cuts it into request bodies of whole lines under <paramref name="maxBody"/> bytes;
    /// the records' ids (which every other field follows) start at <paramref name="first"/>, so a run can have fresh ones.</summary>
    internal static List<byte[]> MakeBodies(string path, int records, int maxBody, long first = 0)
    {
        var bodies = new List<byte[]>();
        var body = new MemoryStream();
        using var file = new FileStream(path, FileMode.Create);
        var line = new StringBuilder(256);
        for (long i = first; i < first + records; i++)
        {
            line.Clear();
            line.Append(CultureInfo.InvariantCulture,
                $$"""{"id":{{i}},"ts":"2026-01-{{1 + i % 28:D2}}T{{i % 24:D2}}:{{i % 60:D2}}:{{i % 59:D2}}.{{i % 1000:D3}}Z","user":"user{{i % 100_000}}","country":"{{Countries[i % Countries.Length]}}","event":"{{Events[i % Events.Length]}}","value":{{i % 977 * 1.25}},"note":"a short free text note number {{i % 7919}} to pad the record to about two hundred bytes"}""");
            line.Append('\n');
            var bytes = Encoding.UTF8.GetBytes(line.ToString());
            file.Write(bytes);
            if (body.Length + bytes.Length > maxBody)
            {
                bodies.Add(body.ToArray());
                body.SetLength(0);
            }
            body.Write(bytes);
        }
        if (body.Length > 0)
            bodies.Add(body.ToArray());
        return bodies;
    }

    /// <summary>Issue 16's main job: a filter, a projection and three functions.</summary>
    private const string MainJob = "SELECT id, ts, upper(country) AS country, event, round(value * 1.1, 2) AS value, date_trunc('hour', ts) AS hour FROM events WHERE event <> 'logout' AND value > 10";

    /// <summary>The stream's schema as DuckDB's read_json columns, so DuckDB parses with the types instead of sampling them.</summary>
    private const string DuckColumns = "{'id': 'BIGINT', 'ts': 'TIMESTAMPTZ', 'user': 'VARCHAR', 'country': 'VARCHAR', 'event': 'VARCHAR', 'value': 'DOUBLE', 'note': 'VARCHAR'}";

    internal const string StreamJson = """
        {"name": "events", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true}, {"name": "ts", "type": "timestamptz"},
          {"name": "user", "type": "string"}, {"name": "country", "type": "string"}, {"name": "event", "type": "string"},
          {"name": "value", "type": "double"}, {"name": "note", "type": "string"}]}}
        """;

    private static readonly string[] Countries = ["US", "DE", "FR", "BR", "IN", "JP", "GB", "CA"];
    private static readonly string[] Events = ["click", "view", "purchase", "signup", "logout"];

    /// <summary>One timed phase of the run: <see cref="Rounds"/> passes over the bodies, from the first send to the committed flush.</summary>
    private sealed record Phase(string Name, int Rounds, double Seconds, double CpuSeconds, double P50, double P99);

    private static async Task<List<Phase>> RunDataPlaneAsync(string dir, List<byte[]> bodies, int connections, string sinkType, int rounds, long? tailBytes, string query)
    {
        // A content root of its own and no config reload: otherwise the host watches the current directory tree
        // (inotify over every file under it), which shows up in profiles as directory scans.
        var contentRoot = Directory.CreateDirectory(Path.Combine(dir, "content")).FullName;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = contentRoot, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddIcebergRestCatalog(new RestCatalogOptions
        {
            WarehouseLocation = Path.Combine(dir, "warehouse"),
            DatabasePath = Path.Combine(dir, "catalog", "catalog.db"),
        });
        builder.Services.AddDataPlanePipelines(o =>
        {
            o.Directory = Path.Combine(dir, "pipelines");
            o.MaxLogBytes = 8L * 1024 * 1024 * 1024;
            if (tailBytes is { } bytes)
                o.LogTailBytes = bytes;
        });
        await using var app = builder.Build();
        app.MapDataPlanePipelines();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };

        async Task Post(string path, string json)
        {
            var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await Post("api/v1/streams", StreamJson);
        await Post("api/v1/sinks", sinkType == "iceberg"
            ? """{"name": "events_table", "type": "iceberg", "namespace": "bench", "table": "events"}"""
            : """{"name": "events_table", "type": "files", "path": "bench/events"}""");
        await Post("api/v1/pipelines", JsonSerializer.Serialize(new { name = "events_pipeline", sql = "INSERT INTO events_table " + query }));

        async Task<Phase> Send(string name, int times)
        {
            var latencies = new double[bodies.Count * times];
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, latencies.Length), new ParallelOptions { MaxDegreeOfParallelism = connections }, async (i, ct) =>
            {
                var content = new ByteArrayContent(bodies[i % bodies.Count]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                long start = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("streams/events", content, ct);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"ingest: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            });
            double acked = clock.Elapsed.TotalSeconds;
            using var flush = await http.PostAsync("api/v1/pipelines/events_pipeline/flush", null);
            var flushed = await flush.Content.ReadAsStringAsync();
            if (!flush.IsSuccessStatusCode)
                throw new InvalidOperationException($"flush: {flushed}");
            double total = clock.Elapsed.TotalSeconds;
            double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"{name}: all acknowledged after {acked:F2} s, committed after {total:F2} s: {flushed}");
            Array.Sort(latencies);
            return new Phase(name, times, total, cpuSeconds, latencies[latencies.Length / 2], latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(latencies.Length * 0.99) - 1)]);
        }

        var phases = new List<Phase> { await Send(rounds > 1 ? "cold (first round)" : "cold", 1) };
        if (rounds > 1)
            phases.Add(await Send($"sustained ({rounds - 1} more rounds)", rounds - 1));
        return phases;
    }

    private static (double Seconds, double CpuSeconds) RunDuckDb(string ndjson, string parquet, string query)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"COPY ({query.Replace("FROM events", $"FROM read_json('{ndjson}', format = 'newline_delimited', columns = {DuckColumns})", StringComparison.Ordinal)}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)";
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        cmd.ExecuteNonQuery();
        return (clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }
}
