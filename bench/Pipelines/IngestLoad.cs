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
/// [iceberg|files] [rounds] [log tail MB] [--query main]</c>: every round sends fresh records, built before its clock starts;
/// the first round (cold: a fresh process, Tier-0 code) is reported on its own, the others together as the warm figure,
/// each against DuckDB's own cold (first) and warm (later) conversions of the same rounds' files.
/// </summary>
internal static class IngestLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        int records = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500_000;
        int connections = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        string sinkType = args.Length > 3 ? args[3] : "iceberg";
        int roundCount = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1;
        long? tailBytes = args.Length > 5 && !args[5].StartsWith("--", StringComparison.Ordinal) ? long.Parse(args[5], CultureInfo.InvariantCulture) << 20 : null;
        // --query main: the issue's "main job" (a filter, a projection, three functions) instead of SELECT *.
        string query = args.SkipWhile(a => a != "--query").Skip(1).FirstOrDefault() is "main" ? MainJob : "SELECT * FROM events";
        var dir = Directory.CreateTempSubdirectory("bench-pipelines-").FullName;
        try
        {
            // Every round sends fresh records (ids, timestamps and values continue from the round before) from bodies
            // built before its clock starts, and DuckDB converts each round's own file: a warm round is what a
            // long-running server sees, not the same bytes again.
            var rounds = Enumerable.Range(0, Math.Max(1, roundCount)).Select(r => new Round(r, Path.Combine(dir, $"records-{r + 1}.ndjson"))).ToList();
            List<byte[]> Bodies(Round round)
            {
                // The previous round's bodies go before this round's are built, so one round's are held at a time.
                GC.Collect();
                return MakeBodies(round.Ndjson, records, maxBody: 1_000_000, first: (long)round.Index * records);
            }
            var first = Bodies(rounds[0]);
            long jsonBytes = new FileInfo(rounds[0].Ndjson).Length;
            Console.WriteLine($"query: {query}");
            // dataplane serve runs with the server GC (the web SDK's default); this executable does not unless told.
            Console.WriteLine($"runtime: server GC {(System.Runtime.GCSettings.IsServerGC ? "on" : "off (DOTNET_gcServer=1 runs as dataplane serve does)")}");
            Console.WriteLine($"{records:N0} records a round, {jsonBytes / 1e6:F1} MB of NDJSON ({jsonBytes / (double)records:F0} B/record), {first.Count} requests, {connections} connections, {sinkType} sink, log tail {(tailBytes is { } t ? $"{t >> 20} MB" : "default")}, {rounds.Count} round(s) of fresh records");

            string loadBefore = IngestStages.LoadAverage();
            var results = await RunDataPlaneAsync(dir, rounds, first, Bodies, connections, sinkType, tailBytes, query);
            long dpParquet = Directory.EnumerateFiles(Path.Combine(dir, "warehouse"), "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            string loadBetween = IngestStages.LoadAverage();
            // DuckDB converts each round's file in one connection: the first COPY is its cold run, the others its warm runs.
            var duck = RunDuckDb(rounds, Path.Combine(dir, "duckdb.parquet"), query);

            var phases = new List<Phase> { Phase.Of("cold (round 1)", results[..1], duck[..1]) };
            if (results.Count > 1)
                phases.Add(Phase.Of($"warm (rounds 2-{results.Count}, fresh records)", results[1..], duck[1..]));
            Console.WriteLine();
            Console.WriteLine("| path | seconds a round | records/s | MB/s of JSON | CPU s a round | MB of JSON per CPU-second | ack p50 ms | ack p99 ms |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var phase in phases)
            {
                Console.WriteLine($"| DataPlane HTTP -> log -> pipeline -> committed snapshot, {phase.Name} | {phase.Seconds:F2} | {phase.Records / phase.Seconds:N0} | {phase.JsonBytes / 1e6 / phase.Seconds:F1} | {phase.CpuSeconds:F2} | {phase.JsonBytes / 1e6 / phase.CpuSeconds:F1} | {phase.P50:F1} | {phase.P99:F1} |");
                Console.WriteLine($"| DuckDB COPY (query over read_json with the column types) TO parquet zstd, {phase.Name} | {phase.DuckSeconds:F2} | {phase.Records / phase.DuckSeconds:N0} | {phase.JsonBytes / 1e6 / phase.DuckSeconds:F1} | {phase.DuckCpuSeconds:F2} | {phase.JsonBytes / 1e6 / phase.DuckCpuSeconds:F1} | | |");
            }
            Console.WriteLine($"Parquet MB: DataPlane {dpParquet / 1e6:F1} (all rounds), DuckDB {new FileInfo(Path.Combine(dir, "duckdb.parquet")).Length / 1e6:F1} (last round)");
            foreach (var phase in phases)
                Console.WriteLine($"ratio DataPlane / DuckDB, {phase.Name}: {phase.DuckSeconds / phase.Seconds:F2} by wall time, {phase.DuckCpuSeconds / phase.CpuSeconds:F2} by CPU time");
            Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB; " +
                $"load average before {loadBefore}, after DataPlane {loadBetween}, after DuckDB {IngestStages.LoadAverage()} ({Environment.ProcessorCount} cores)");
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

    /// <summary>One round: its index (0 = cold) and the NDJSON file of its fresh records, which DuckDB converts.</summary>
    private sealed record Round(int Index, string Ndjson);

    /// <summary>One round timed on one side: from the first send to the committed flush (DataPlane), or the COPY (DuckDB).</summary>
    private sealed record Timed(double Seconds, double CpuSeconds, long Records, long JsonBytes, double[] Latencies);

    /// <summary>Rounds reported together, each side's figures the mean of its rounds.</summary>
    private sealed record Phase(string Name, double Seconds, double CpuSeconds, double DuckSeconds, double DuckCpuSeconds, double Records, double JsonBytes, double P50, double P99)
    {
        public static Phase Of(string name, List<Timed> dataPlane, List<Timed> duck)
        {
            var latencies = dataPlane.SelectMany(r => r.Latencies).Order().ToArray();
            return new Phase(name, dataPlane.Average(r => r.Seconds), dataPlane.Average(r => r.CpuSeconds), duck.Average(r => r.Seconds),
                duck.Average(r => r.CpuSeconds), dataPlane.Average(r => r.Records), dataPlane.Average(r => r.JsonBytes),
                latencies[latencies.Length / 2], latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(latencies.Length * 0.99) - 1)]);
        }
    }

    private static async Task<List<Timed>> RunDataPlaneAsync(string dir, List<Round> rounds, List<byte[]> firstBodies, Func<Round, List<byte[]>> makeBodies, int connections, string sinkType, long? tailBytes, string query)
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

        async Task<Timed> Send(Round round, List<byte[]> bodies)
        {
            // The driver's own garbage (the previous round's bodies) is collected before the clock starts.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var latencies = new double[bodies.Count];
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var jit = System.Runtime.JitInfo.GetCompilationTime();
            long jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, latencies.Length), new ParallelOptions { MaxDegreeOfParallelism = connections }, async (i, ct) =>
            {
                var content = new ByteArrayContent(bodies[i]);
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
            long records = bodies.Sum(b => (long)b.AsSpan().Count((byte)'\n'));
            Console.WriteLine($"round {round.Index + 1}: all acknowledged after {acked:F2} s, committed after {total:F2} s, {cpuSeconds:F2} CPU s, " +
                $"of which the JIT {(System.Runtime.JitInfo.GetCompilationTime() - jit).TotalSeconds:F2} s ({System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods:N0} methods): {flushed}");
            return new Timed(total, cpuSeconds, records, bodies.Sum(b => (long)b.Length), latencies);
        }

        var results = new List<Timed> { await Send(rounds[0], firstBodies) };
        firstBodies.Clear();
        foreach (var round in rounds.Skip(1))
            results.Add(await Send(round, makeBodies(round)));
        return results;
    }

    private static List<Timed> RunDuckDb(List<Round> rounds, string parquet, string query)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        var results = new List<Timed>();
        foreach (var round in rounds)
        {
            using var cmd = duck.CreateCommand();
            cmd.CommandText = $"COPY ({query.Replace("FROM events", $"FROM read_json('{round.Ndjson}', format = 'newline_delimited', columns = {DuckColumns})", StringComparison.Ordinal)}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)";
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            cmd.ExecuteNonQuery();
            results.Add(new Timed(clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, 0, 0, []));
            Console.WriteLine($"DuckDB round {round.Index + 1}: {results[^1].Seconds:F2} s, {results[^1].CpuSeconds:F2} CPU s");
        }
        return results;
    }
}
