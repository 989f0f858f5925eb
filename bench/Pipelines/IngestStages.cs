using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Streams;
using DataPlane.Storage;

namespace DataPlane.Benchmarks.Pipelines;

/// <summary>
/// Where the time of <see cref="IngestLoad"/> goes: each stage of the path run alone, on one thread, over the same
/// request bodies, reported as process CPU per MB of JSON (which load from other processes inflates far less than
/// wall time). <c>dotnet run -c Release --project bench -- pipelines-stages [records]</c>.
/// </summary>
internal static class IngestStages
{
    public static async Task<int> RunAsync(string[] args)
    {
        int records = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500_000;
        var dir = Directory.CreateTempSubdirectory("bench-pipeline-stages-").FullName;
        try
        {
            var bodies = IngestLoad.MakeBodies(Path.Combine(dir, "records.ndjson"), records, maxBody: 1_000_000);
            long jsonBytes = bodies.Sum(b => (long)b.Length);
            Console.WriteLine($"{records:N0} records, {jsonBytes / 1e6:F1} MB of NDJSON in {bodies.Count} bodies; load average {LoadAverage()}");
            var stream = StreamDefinition.Parse(System.Text.Json.JsonDocument.Parse(IngestLoad.StreamJson).RootElement, DateTimeOffset.UtcNow);
            var parser = new RecordBatchParser(stream);
            var payloads = new List<byte[]>(bodies.Count);
            var counts = new List<int>(bodies.Count);
            var rows = new List<Row>();

            // Warm up the JIT on one body so the first stage is not charged for it.
            parser.Parse(bodies[0], 1 << 20);
            parser.Serialize();

            rows.Add(Measure("parse JSON into Arrow builders", () =>
            {
                foreach (var body in bodies)
                    if (parser.Parse(body, 1 << 20) != ParseOutcome.Accepted)
                        throw new InvalidOperationException(parser.Error);
            }));
            rows.Add(Measure("parse + serialize Arrow IPC", () =>
            {
                foreach (var body in bodies)
                {
                    parser.Parse(body, 1 << 20);
                    payloads.Add(parser.Serialize().ToArray());
                    counts.Add(parser.RecordCount);
                }
            }));

            var batches = new List<RecordBatch>();
            rows.Add(Measure("Arrow IPC read (from memory)", () =>
            {
                for (int i = 0; i < payloads.Count; i++)
                {
                    using var reader = new ArrowStreamReader(payloads[i]);
                    batches.Add(reader.ReadNextRecordBatch());
                }
            }));

            // The default tail: once it is full, each append recycles the pooled buffer of the batch it evicts.
            long tailBytes = new IngestLogOptions().TailBytes;
            foreach (var (where, tail) in new[] { ("segment files", 0L), ($"memory tail (the last {tailBytes >> 20} MB) and the segments", tailBytes) })
            {
                var log = IngestLog.Open(Path.Combine(dir, "log-" + tail), new IngestLogOptions { MaxBytes = long.MaxValue, TailBytes = tail });
                await using (log)
                {
                    rows.Add(await MeasureAsync($"log append, 8 in flight (group commit){(tail > 0 ? " + copy for the tail" : "")}", async () =>
                    {
                        var inFlight = new Queue<Task<long>>();
                        for (int i = 0; i < payloads.Count; i++)
                        {
                            if (inFlight.Count == 8)
                                await inFlight.Dequeue();
                            inFlight.Enqueue(log.AppendAsync(payloads[i], counts[i]));
                        }
                        while (inFlight.Count > 0)
                            await inFlight.Dequeue();
                    }));
                    if (tail > 0)
                    {
                        // As ingest appends now: each payload already in the pooled buffer it was serialized into
                        // (made before the clock), which the tail keeps as is.
                        var handed = payloads.Select(p => LogBuffer.Copy(p)).ToList();
                        rows.Add(await MeasureAsync("log append, 8 in flight (group commit), payloads handed over for the tail", async () =>
                        {
                            var inFlight = new Queue<Task<long>>();
                            for (int i = 0; i < handed.Count; i++)
                            {
                                if (inFlight.Count == 8)
                                    await inFlight.Dequeue();
                                inFlight.Enqueue(log.AppendAsync(handed[i], counts[i]));
                            }
                            while (inFlight.Count > 0)
                                await inFlight.Dequeue();
                        }));
                    }
                    rows.Add(Measure($"log read from the {where}", () =>
                    {
                        long offset = 0;
                        while (log.TryRead(offset, out var batch))
                        {
                            offset = batch.EndOffset;
                            batch.Release();
                        }
                    }));
                }
            }

            var store = ObjectStore.Open(Path.Combine(dir, "warehouse"));
            foreach (var (label, compression, level) in new[] { ("Parquet write zstd(3) + metrics", DataFileCompression.Zstd, 3), ("Parquet write zstd(1) + metrics", DataFileCompression.Zstd, 1), ("Parquet write uncompressed + metrics", DataFileCompression.Uncompressed, 0) })
            {
                rows.Add(await MeasureAsync(label, async () =>
                {
                    await using var writer = new DataFileWriter(store, $"t/data-{compression}-{level}", stream.IcebergSchema, new DataFileWriterOptions { Compression = compression, CompressionLevel = level > 0 ? level : null });
                    foreach (var batch in batches)
                        await writer.WriteAsync(batch);
                    await writer.CompleteAsync();
                }));
            }

            Console.WriteLine();
            Console.WriteLine("| stage (one thread) | CPU s | of which kernel s | wall s | CPU ms per MB of JSON | MB of JSON per CPU-second |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var (stage, cpu, kernel, wall) in rows)
                Console.WriteLine($"| {stage} | {cpu:F2} | {kernel:F2} | {wall:F2} | {cpu * 1000 / (jsonBytes / 1e6):F1} | {jsonBytes / 1e6 / cpu:F0} |");
            Console.WriteLine($"load average after: {LoadAverage()}");
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private readonly record struct Row(string Stage, double CpuSeconds, double KernelSeconds, double WallSeconds);

    private static Row Measure(string stage, Action action) =>
        MeasureAsync(stage, () => { action(); return Task.CompletedTask; }).GetAwaiter().GetResult();

    /// <summary>Process CPU (user + kernel, so the kernel's copies and fsync work count) and wall time of one stage.</summary>
    private static async Task<Row> MeasureAsync(string stage, Func<Task> action)
    {
        GC.Collect();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var kernel = process.PrivilegedProcessorTime;
        var wall = Stopwatch.StartNew();
        await action();
        process.Refresh();
        return new Row(stage, (process.TotalProcessorTime - cpu).TotalSeconds, (process.PrivilegedProcessorTime - kernel).TotalSeconds, wall.Elapsed.TotalSeconds);
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
