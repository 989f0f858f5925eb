using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using DataPlane.Benchmarks.Pipelines;
using DataPlane.Catalog.Rest;
using DataPlane.Pipelines;
using DataPlane.TestServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Benchmarks.Sources;

/// <summary>
/// Load driver for Kafka-backed streams (<c>"produce": true</c>), on the tests' real broker (<see cref="KafkaFixture"/>),
/// in one process whose pipelines run as a worker's do:
/// (1) the ~200-byte records of <see cref="IngestLoad"/> already in a 4-partition topic, read by a pipeline into a
/// committed Iceberg table (from the pipeline's creation to the flush that commits every record), against <c>kcat</c>
/// consuming the same topic to /dev/null in the same run;
/// (2) the same records POSTed over HTTP (8 connections, 1 MB bodies) to a Kafka-backed stream, produced with acks=all
/// and read back by its pipeline into a table, against a stream with a local log on the same server.
/// <c>dotnet run -c Release --project bench -- kafka-backed [records]</c>; needs <c>kcat</c> on the PATH.
/// </summary>
internal static class KafkaBackedLoad
{
    private const int Partitions = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        int records = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        var dir = Directory.CreateTempSubdirectory("bench-kafka-backed-").FullName;
        var kafka = new KafkaFixture();
        await kafka.InitializeAsync();
        try
        {
            var ndjson = Path.Combine(dir, "records.ndjson");
            var bodies = IngestLoad.MakeBodies(ndjson, records, maxBody: 1_000_000);
            long jsonBytes = new FileInfo(ndjson).Length;
            double mb = jsonBytes / 1e6;
            string topic = $"bench-{Guid.NewGuid():N}";
            await kafka.CreateTopicAsync(topic, Partitions);
            var produce = Stopwatch.StartNew();
            using (var producer = new ProducerBuilder<string, byte[]>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build())
            {
                long n = 0;
                foreach (var line in File.ReadLines(ndjson))
                {
                    // Keyed as the stream's own producer would spread them: every partition gets a share.
                    var message = new Message<string, byte[]> { Key = (n++ % 1024).ToString(CultureInfo.InvariantCulture), Value = Encoding.UTF8.GetBytes(line) };
                    while (true)
                    {
                        try { producer.Produce(topic, message); break; }
                        catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(50)); }
                    }
                }
                if (producer.Flush(TimeSpan.FromMinutes(5)) > 0)
                    throw new InvalidOperationException("the producer did not deliver every record within 5 minutes");
            }
            Console.WriteLine($"{records:N0} records, {mb:F1} MB of NDJSON ({jsonBytes / (double)records:F0} B/record), produced to {topic} ({Partitions} partitions) in {produce.Elapsed.TotalSeconds:F1} s");

            string loadBefore = IngestStages.LoadAverage();
            var (kcatSeconds, kcatCpu, kcatPeak) = await KcatAsync(kafka, topic, records);
            await using var server = await Server.StartAsync(dir);
            var (topicSeconds, topicCpu) = await server.TopicToTableAsync(kafka, topic);
            var (localSeconds, localCpu) = await server.HttpAsync(bodies, "local_log", null);
            string httpTopic = $"bench-http-{Guid.NewGuid():N}";
            await kafka.CreateTopicAsync(httpTopic, Partitions);
            var (backedSeconds, backedCpu) = await server.HttpAsync(bodies, "kafka_backed", Source(kafka, httpTopic, produce: true));

            Console.WriteLine();
            Console.WriteLine("| path | seconds | records/s | MB/s of JSON | CPU s |");
            Console.WriteLine("|---|---|---|---|---|");
            Console.WriteLine($"| (1) kcat -C topic -> /dev/null | {kcatSeconds:F2} | {records / kcatSeconds:N0} | {mb / kcatSeconds:F1} | {kcatCpu:F2} |");
            Console.WriteLine($"| (1) topic -> pipeline (one worker) -> committed table | {topicSeconds:F2} | {records / topicSeconds:N0} | {mb / topicSeconds:F1} | {topicCpu:F2} |");
            Console.WriteLine($"| (2) HTTP POST (8 connections) -> local log -> pipeline -> committed table | {localSeconds:F2} | {records / localSeconds:N0} | {mb / localSeconds:F1} | {localCpu:F2} |");
            Console.WriteLine($"| (2) HTTP POST (8 connections) -> Kafka-backed stream (acks=all) -> pipeline -> committed table | {backedSeconds:F2} | {records / backedSeconds:N0} | {mb / backedSeconds:F1} | {backedCpu:F2} |");
            Console.WriteLine($"(1) one worker / kcat: {kcatSeconds / topicSeconds:F2} of kcat's rate (target >= 0.70)");
            Console.WriteLine($"(2) Kafka-backed / local log: {backedSeconds / localSeconds:F2}x the wall time (target <= 2), {backedCpu / localCpu:F2}x the CPU");
            Console.WriteLine($"peak working set: DataPlane process {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB (holds the {bodies.Sum(b => (long)b.Length) / 1e6:F0} MB of bodies), kcat {kcatPeak / 1e6:F0} MB; " +
                $"load average before {loadBefore}, after {IngestStages.LoadAverage()} ({Environment.ProcessorCount} cores)");
            return 0;
        }
        finally
        {
            await kafka.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static string Source(KafkaFixture kafka, string topic, bool produce)
    {
        string config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        return $$"""{"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "config": {{config}}, "produce": {{(produce ? "true" : "false")}}}""";
    }

    /// <summary>
    /// kcat reading every partition from its first message to its end, the messages to /dev/null, under GNU time: wall,
    /// CPU seconds (user + system) and peak resident bytes. The partitions' end offsets kcat reports must add up to the records.
    /// </summary>
    private static async Task<(double Seconds, double Cpu, long PeakBytes)> KcatAsync(KafkaFixture kafka, string topic, int records)
    {
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
        return (Value(1), Value(2) + Value(3), (long)Value(4) * 1024);
    }

    private sealed class Server(WebApplication app, HttpClient http) : IAsyncDisposable
    {
        public static async Task<Server> StartAsync(string dir)
        {
            var builder = WebApplication.CreateSlimBuilder();
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
            });
            var app = builder.Build();
            app.MapDataPlanePipelines();
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Server(app, new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(30) });
        }

        private async Task<string> SendAsync(HttpMethod method, string path, string? json)
        {
            using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {text}");
            return text;
        }

        private async Task StreamAndSinkAsync(string name, string? source)
        {
            var json = IngestLoad.StreamJson.Replace("\"name\": \"events\"", $"\"name\": \"{name}\"", StringComparison.Ordinal);
            await SendAsync(HttpMethod.Post, "api/v1/streams", source is null ? json : json.TrimEnd()[..^1] + ", \"source\": " + source + "}");
            // Rolls only by the flush: one commit per path, as a worker's pipeline under load would roll by size anyway.
            await SendAsync(HttpMethod.Post, "api/v1/sinks", $$$"""{"name": "{{{name}}}_table", "type": "iceberg", "namespace": "bench", "table": "{{{name}}}", "rolling": {"interval_seconds": 3600}}""");
        }

        private Task PipelineAsync(string name) =>
            SendAsync(HttpMethod.Post, "api/v1/pipelines", $$"""{"name": "{{name}}_pipeline", "sql": "INSERT INTO {{name}}_table SELECT * FROM {{name}}"}""");

        /// <summary>(1): from the pipeline's creation (it reads each partition from its first message) to the flush that commits up to the high watermarks.</summary>
        public async Task<(double Seconds, double Cpu)> TopicToTableAsync(KafkaFixture kafka, string topic)
        {
            await StreamAndSinkAsync("from_topic", Source(kafka, topic, produce: true));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await PipelineAsync("from_topic");
            var flushed = await SendAsync(HttpMethod.Post, "api/v1/pipelines/from_topic_pipeline/flush", null);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"(1) committed after {seconds:F2} s: {flushed[..Math.Min(flushed.Length, 300)]}");
            return (seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }

        /// <summary>(2): from the first POST to the flush that commits every record.</summary>
        public async Task<(double Seconds, double Cpu)> HttpAsync(List<byte[]> bodies, string name, string? source)
        {
            await StreamAndSinkAsync(name, source);
            await PipelineAsync(name);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (body, ct) =>
            {
                var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                using var response = await http.PostAsync($"streams/{name}", content, ct);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"ingest: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            });
            var flushed = await SendAsync(HttpMethod.Post, $"api/v1/pipelines/{name}_pipeline/flush", null);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"(2) {name}: committed after {seconds:F2} s: {flushed[..Math.Min(flushed.Length, 300)]}");
            return (seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }

        public async ValueTask DisposeAsync()
        {
            http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
