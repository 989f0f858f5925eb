using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using DataPlane.Benchmarks.Pipelines;
using DataPlane.Pipelines;
using DataPlane.TestServices;

namespace DataPlane.Benchmarks.Sources;

/// <summary>
/// Load driver for Kafka-backed streams (<c>"produce": true</c>), on the tests' real broker (<see cref="KafkaFixture"/>),
/// with the ~200-byte records of <see cref="IngestLoad"/>, fresh ones (new ids) for every path:
/// (1) a 4-partition topic read by a pipeline into a committed Iceberg table, on a catalog process and one worker, then
/// two (a consumer group of two; <see cref="BenchHost"/>s in this process, as <c>--role catalog</c> and
/// <c>--role worker</c> run them), timed from the pipeline's creation to the flush that commits every partition up to its
/// high watermark; against <c>kcat</c> consuming the same topic to /dev/null just before;
/// (2) the records POSTed over HTTP (8 connections, 1 MB bodies) to a Kafka-backed stream, produced with acks=all and
/// read back by its pipeline into a table, in both formats (json: a message per record; ndjson: a message per partition
/// and request), against a stream with a local log on the same server, each timed from the first POST to the flush that
/// commits every record.
/// Each path runs cold (its first run in this process) and warm (again, on fresh records).
/// <c>dotnet run -c Release --project bench -- kafka-backed [records] [all|topic|http]</c> (topic: (1) only; http: (2)
/// only); needs <c>kcat</c> on the PATH.
/// </summary>
internal static class KafkaBackedLoad
{
    private const int Partitions = 4;
    private const int MaxBody = 1_000_000;

    private sealed record Row(string Path, string Run, double Seconds, double Cpu, long PeakBytes, string Load);

    public static async Task<int> RunAsync(string[] args)
    {
        int records = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        string paths = args.Length > 2 ? args[2] : "all";
        if (paths is not ("all" or "topic" or "http"))
            throw new ArgumentException($"Paths '{paths}' are unknown; use all, topic or http.");
        var dir = Directory.CreateTempSubdirectory("bench-kafka-backed-").FullName;
        var kafka = new KafkaFixture();
        await kafka.InitializeAsync();
        var rows = new List<Row>();
        long jsonBytes = 0;
        int set = 0;
        // Every path gets records no earlier path had: ids from a new multiple of the record count.
        List<byte[]> FreshBodies()
        {
            var bodies = IngestLoad.MakeBodies(Path.Combine(dir, "records.ndjson"), records, MaxBody, first: (long)set++ * records);
            jsonBytes = bodies.Sum(b => (long)b.Length);
            return bodies;
        }
        try
        {
            string loadBefore = IngestStages.LoadAverage();
            Console.WriteLine($"{records:N0} records per path; load average {loadBefore} ({Environment.ProcessorCount} cores)");

            if (paths != "http")
            {
                await using var catalog = await BenchHost.StartAsync(dir, ProcessRole.Catalog);
                var workers = new List<BenchHost> { await BenchHost.StartAsync(dir, ProcessRole.Worker, catalog) };
                try
                {
                    foreach (var (run, count) in new[] { ("cold", 1), ("warm", 1), ("warm", 2) })
                    {
                        while (workers.Count < count)
                            workers.Add(await BenchHost.StartAsync(dir, ProcessRole.Worker, catalog));
                        string topic = await ProduceAsync(kafka, FreshBodies());
                        rows.Add(await KcatAsync(kafka, topic, records, run));
                        rows.Add(await TopicToTableAsync(catalog, kafka, topic, count, run));
                    }
                }
                finally
                {
                    foreach (var worker in workers)
                        await worker.DisposeAsync();
                }
            }

            if (paths != "topic")
            {
                await using var server = await BenchHost.StartAsync(dir);
                foreach (var run in new[] { "cold", "warm" })
                {
                    rows.Add(await HttpToTableAsync(server, FreshBodies(), $"local_log_{run}", null, "(2) HTTP POST (8 connections) -> local log -> pipeline -> committed table", run));
                    string topic = $"bench-http-{Guid.NewGuid():N}";
                    await kafka.CreateTopicAsync(topic, Partitions);
                    rows.Add(await HttpToTableAsync(server, FreshBodies(), $"kafka_backed_{run}", Source(kafka, topic, produce: true),
                        "(2) HTTP POST (8 connections) -> Kafka-backed stream (acks=all) -> pipeline -> committed table", run));
                    topic = $"bench-http-{Guid.NewGuid():N}";
                    await kafka.CreateTopicAsync(topic, Partitions);
                    rows.Add(await HttpToTableAsync(server, FreshBodies(), $"kafka_ndjson_{run}", Source(kafka, topic, produce: true, format: "ndjson"),
                        "(2) HTTP POST (8 connections) -> Kafka-backed stream, ndjson format (acks=all) -> pipeline -> committed table", run));
                }
            }

            double mb = jsonBytes / 1e6;
            Console.WriteLine();
            Console.WriteLine($"{records:N0} records per path, {mb:F1} MB of NDJSON each ({jsonBytes / (double)records:F0} B/record), {Partitions} partitions");
            Console.WriteLine();
            Console.WriteLine("| path | run | seconds | records/s | MB/s of JSON | CPU s | peak working set MB | load average at start |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var r in rows)
                Console.WriteLine($"| {r.Path} | {r.Run} | {r.Seconds:F2} | {records / r.Seconds:N0} | {mb / r.Seconds:F1} | {r.Cpu:F2} | {r.PeakBytes / 1e6:F0} | {r.Load} |");
            Console.WriteLine();
            int topicRows = paths == "http" ? 0 : 6;
            for (int i = 0; i + 1 < topicRows; i += 2)
                Console.WriteLine($"{rows[i + 1].Path} ({rows[i + 1].Run}): {rows[i].Seconds / rows[i + 1].Seconds:F2} of kcat's records/s on the same topic (target for one worker >= 0.70), {rows[i + 1].Cpu / rows[i].Cpu:F0}x its CPU");
            for (int i = topicRows; i + 2 < rows.Count; i += 3)
            {
                Console.WriteLine($"(2) Kafka-backed (json: a message per record) / local log, {rows[i].Run}: {rows[i + 1].Seconds / rows[i].Seconds:F2}x the wall time (target <= 2), {rows[i + 1].Cpu / rows[i].Cpu:F2}x the CPU");
                Console.WriteLine($"(2) Kafka-backed (ndjson: a message per partition and request) / local log, {rows[i].Run}: {rows[i + 2].Seconds / rows[i].Seconds:F2}x the wall time (target <= 2), {rows[i + 2].Cpu / rows[i].Cpu:F2}x the CPU");
            }
            Console.WriteLine($"The peak working sets are this whole process's during the path, after a compacting collection before it (the DataPlane hosts; in (2) also the " +
                $"{mb:F0} MB of bodies the driver holds); kcat's is its peak RSS. Load average before {loadBefore}, after {IngestStages.LoadAverage()}.");
            return 0;
        }
        finally
        {
            await kafka.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A new topic holding the bodies' records, keyed as the stream's own producer would spread them.</summary>
    private static async Task<string> ProduceAsync(KafkaFixture kafka, List<byte[]> bodies)
    {
        string topic = $"bench-{Guid.NewGuid():N}";
        await kafka.CreateTopicAsync(topic, Partitions);
        var clock = Stopwatch.StartNew();
        using var producer = new ProducerBuilder<string, byte[]>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
        long n = 0;
        foreach (var body in bodies)
        {
            for (int start = 0; start < body.Length;)
            {
                int end = Array.IndexOf(body, (byte)'\n', start);
                var message = new Message<string, byte[]> { Key = (n++ % 1024).ToString(CultureInfo.InvariantCulture), Value = body[start..end] };
                while (true)
                {
                    try { producer.Produce(topic, message); break; }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(50)); }
                }
                start = end + 1;
            }
        }
        if (producer.Flush(TimeSpan.FromMinutes(5)) > 0)
            throw new InvalidOperationException("the producer did not deliver every record within 5 minutes");
        Console.WriteLine($"produced {n:N0} records to {topic} in {clock.Elapsed.TotalSeconds:F1} s");
        return topic;
    }

    private static string Source(KafkaFixture kafka, string topic, bool produce, string format = "json")
    {
        string config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        return $$"""{"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "format": "{{format}}", "config": {{config}}, "produce": {{(produce ? "true" : "false")}}}""";
    }

    /// <summary>
    /// kcat reading every partition from its first message to its end, the messages to /dev/null, under GNU time: wall,
    /// CPU seconds (user + system) and peak resident bytes. The partitions' end offsets kcat reports must add up to the
    /// records. Its consumer fetches as much per request as DataPlane's may.
    /// </summary>
    private static async Task<Row> KcatAsync(KafkaFixture kafka, string topic, int records, string run)
    {
        string load = IngestStages.LoadAverage();
        var kcat = $"kcat -C -b {kafka.BootstrapServers} -t {topic} -o beginning -e" +
            (kafka.IsLegacyBroker ? " -X api.version.request=false -X broker.version.fallback=0.9.0.1" : "");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec /usr/bin/time -f 'TIME %e %U %S %M' {kcat} > /dev/null");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await stdout;
        var lines = stderr.Split('\n');
        var time = lines.LastOrDefault(l => l.StartsWith("TIME ", StringComparison.Ordinal))?.Split(' ');
        // "% Reached end of topic T [p] at offset N" per partition, each read from offset 0.
        long read = lines.Select(l => Regex.Match(l, @"Reached end of topic .* at offset (\d+)")).Where(m => m.Success)
            .Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        if (process.ExitCode != 0 || time is null || read != records)
            throw new InvalidOperationException($"kcat (apt-get install kcat) exited {process.ExitCode} having reached offsets adding up to {read} of {records}: {stderr}");
        double Value(int i) => double.Parse(time[i], CultureInfo.InvariantCulture);
        var row = new Row("(1) kcat -C topic -> /dev/null", run, Value(1), Value(2) + Value(3), (long)Value(4) * 1024, load);
        Console.WriteLine($"{row.Path} ({run}): {row.Seconds:F2} s, {row.Cpu:F2} CPU s");
        return row;
    }

    /// <summary>(1): from the pipeline's creation on the catalog process (each worker reads its partitions from their first
    /// message) to the catalog process's flush, which answers once the table has every partition up to its high watermark.</summary>
    private static async Task<Row> TopicToTableAsync(BenchHost catalog, KafkaFixture kafka, string topic, int workers, string run)
    {
        string name = $"topic_{workers}_{run}";
        await catalog.CreateStreamAsync(name, Source(kafka, topic, produce: true));
        await CreateSinkAsync(catalog, name);
        // What earlier paths left in the heap is given back, so the peak is this path's.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        string load = IngestStages.LoadAverage();
        using var peak = new WorkingSetPeak();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await CreatePipelineAsync(catalog, name);
        var flushed = await catalog.SendAsync(HttpMethod.Post, $"api/v1/pipelines/{name}_pipeline/flush?timeout_seconds=600");
        var row = new Row($"(1) topic -> pipeline ({(workers == 1 ? "one worker" : $"{workers} workers")}) -> committed table", run,
            clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, peak.Bytes, load);
        Console.WriteLine($"{row.Path} ({run}): committed after {row.Seconds:F2} s, {row.Cpu:F2} CPU s: {flushed[..Math.Min(flushed.Length, 300)]}");
        // Its consumers leave the group; an idle pipeline would still poll the broker during the next path.
        await catalog.SendAsync(HttpMethod.Delete, $"api/v1/pipelines/{name}_pipeline");
        return row;
    }

    /// <summary>(2): from the first POST to the flush that commits every record.</summary>
    private static async Task<Row> HttpToTableAsync(BenchHost server, List<byte[]> bodies, string name, string? source, string path, string run)
    {
        await server.CreateStreamAsync(name, source);
        await CreateSinkAsync(server, name);
        await CreatePipelineAsync(server, name);
        // What earlier paths left in the heap is given back, so the peak is this path's.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        string load = IngestStages.LoadAverage();
        using var peak = new WorkingSetPeak();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await server.PostRecordsAsync(name, bodies);
        double posted = clock.Elapsed.TotalSeconds;
        var flushed = await server.SendAsync(HttpMethod.Post, $"api/v1/pipelines/{name}_pipeline/flush");
        var row = new Row(path, run, clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, peak.Bytes, load);
        Console.WriteLine($"{path} ({run}): every POST answered after {posted:F2} s, committed after {row.Seconds:F2} s, {row.Cpu:F2} CPU s: {flushed[..Math.Min(flushed.Length, 300)]}");
        await server.SendAsync(HttpMethod.Delete, $"api/v1/pipelines/{name}_pipeline");
        return row;
    }

    // Rolls only by the flush: one commit per path, as a worker's pipeline under load would roll by size anyway.
    private static Task CreateSinkAsync(BenchHost host, string name) =>
        host.SendAsync(HttpMethod.Post, "api/v1/sinks", $$$"""{"name": "{{{name}}}_table", "type": "iceberg", "namespace": "bench", "table": "{{{name}}}", "rolling": {"interval_seconds": 3600}}""");

    private static Task CreatePipelineAsync(BenchHost host, string name) =>
        host.SendAsync(HttpMethod.Post, "api/v1/pipelines", $$"""{"name": "{{name}}_pipeline", "sql": "INSERT INTO {{name}}_table SELECT * FROM {{name}}"}""");
}
