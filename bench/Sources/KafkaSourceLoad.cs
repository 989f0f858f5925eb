using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using DataPlane.Benchmarks.Pipelines;
using DataPlane.TestServices;

namespace DataPlane.Benchmarks.Sources;

/// <summary>
/// Load driver: the ~200-byte records of <see cref="IngestLoad"/> already in a Kafka topic (4 partitions, the real broker
/// of the tests) consumed by a stream's Kafka source, through a pipeline, to a committed Iceberg snapshot; against the
/// same records POSTed over HTTP (8 connections) to a second stream of the same server, in the same run.
/// <c>dotnet run -c Release --project bench -- kafka-source [records]</c>.
/// </summary>
internal static class KafkaSourceLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        int records = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500_000;
        var dir = Directory.CreateTempSubdirectory("bench-kafka-source-").FullName;
        var kafka = new KafkaFixture();
        await kafka.InitializeAsync();
        try
        {
            var ndjson = Path.Combine(dir, "records.ndjson");
            var bodies = IngestLoad.MakeBodies(ndjson, records, maxBody: 1_000_000);
            long jsonBytes = new FileInfo(ndjson).Length;
            string topic = $"bench-{Guid.NewGuid():N}";
            var produce = Stopwatch.StartNew();
            using (var producer = new ProducerBuilder<Null, byte[]>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build())
            {
                foreach (var line in File.ReadLines(ndjson))
                {
                    while (true)
                    {
                        try { producer.Produce(topic, new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(line) }); break; }
                        catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(50)); }
                    }
                }
                if (producer.Flush(TimeSpan.FromMinutes(5)) > 0)
                    throw new InvalidOperationException("the producer did not deliver every record within 5 minutes");
            }
            Console.WriteLine($"{records:N0} records, {jsonBytes / 1e6:F1} MB of NDJSON ({jsonBytes / (double)records:F0} B/record), produced to {topic} in {produce.Elapsed.TotalSeconds:F1} s");

            string loadBefore = IngestStages.LoadAverage();
            await using var server = await BenchHost.StartAsync(dir);
            var (httpSeconds, httpCpu) = await HttpAsync(server, bodies);
            var (kafkaSeconds, kafkaCpu) = await KafkaAsync(server, kafka, topic, records);

            double mb = jsonBytes / 1e6;
            Console.WriteLine();
            Console.WriteLine("| path | seconds | records/s | MB/s of JSON | CPU s |");
            Console.WriteLine("|---|---|---|---|---|");
            Console.WriteLine($"| Kafka topic -> source -> log -> pipeline -> committed snapshot | {kafkaSeconds:F2} | {records / kafkaSeconds:N0} | {mb / kafkaSeconds:F1} | {kafkaCpu:F2} |");
            Console.WriteLine($"| HTTP POST (8 connections) -> log -> pipeline -> committed snapshot | {httpSeconds:F2} | {records / httpSeconds:N0} | {mb / httpSeconds:F1} | {httpCpu:F2} |");
            Console.WriteLine($"ratio Kafka / HTTP: {httpSeconds / kafkaSeconds:F2} by wall time, {httpCpu / kafkaCpu:F2} by CPU time; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB; " +
                $"load average before {loadBefore}, after {IngestStages.LoadAverage()} ({Environment.ProcessorCount} cores)");
            return 0;
        }
        finally
        {
            await kafka.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task PipelineAsync(BenchHost server, string stream)
    {
        await server.SendAsync(HttpMethod.Post, "api/v1/sinks", $$"""{"name": "{{stream}}_table", "type": "iceberg", "namespace": "bench", "table": "{{stream}}"}""");
        await server.SendAsync(HttpMethod.Post, "api/v1/pipelines", $$"""{"name": "{{stream}}_pipeline", "sql": "INSERT INTO {{stream}}_table SELECT * FROM {{stream}}"}""");
    }

    private static async Task<(double Seconds, double Cpu)> HttpAsync(BenchHost server, List<byte[]> bodies)
    {
        await server.CreateStreamAsync("over_http", null);
        await PipelineAsync(server, "over_http");
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await server.PostRecordsAsync("over_http", bodies);
        await server.SendAsync(HttpMethod.Post, "api/v1/pipelines/over_http_pipeline/flush");
        return (clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    /// <summary>From the stream's creation (its source starts at the topic's beginning) to the snapshot that commits every record.</summary>
    private static async Task<(double Seconds, double Cpu)> KafkaAsync(BenchHost server, KafkaFixture kafka, string topic, int records)
    {
        string config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        await server.SendAsync(HttpMethod.Post, "api/v1/sinks", """{"name": "from_kafka_table", "type": "iceberg", "namespace": "bench", "table": "from_kafka"}""");
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await server.CreateStreamAsync("from_kafka", $$"""{"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "config": {{config}}}""");
        await server.SendAsync(HttpMethod.Post, "api/v1/pipelines", """{"name": "from_kafka_pipeline", "sql": "INSERT INTO from_kafka_table SELECT * FROM from_kafka"}""");
        while (true)
        {
            var stream = JsonDocument.Parse(await server.SendAsync(HttpMethod.Get, "api/v1/streams/from_kafka")).RootElement;
            if (stream.GetProperty("log").GetProperty("end_offset").GetInt64() >= records)
                break;
            if (clock.Elapsed > TimeSpan.FromMinutes(10))
                throw new TimeoutException($"the Kafka source did not consume {records} records within 10 minutes: {stream}");
            await Task.Delay(50);
        }
        var flushed = await server.SendAsync(HttpMethod.Post, "api/v1/pipelines/from_kafka_pipeline/flush");
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"Kafka: committed after {seconds:F2} s: {flushed}");
        return (seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }
}
