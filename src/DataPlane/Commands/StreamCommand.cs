using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace DataPlane.Commands;

/// <summary><c>dataplane stream create|list|send</c>: streams through a running server's management API.</summary>
internal static class StreamCommand
{
    public static Command Create()
    {
        var command = new Command("stream", "Create, list and send records to streams on a running DataPlane server.");

        var name = new Argument<string>("name") { Description = "Stream name: [a-z][a-z0-9_]*" };
        var fields = new Option<string[]>("--field") { Description = "A field as name:type[:required], e.g. id:long:required (repeat); none for a schemaless stream", AllowMultipleArgumentsPerToken = true };
        var kafkaBootstrap = new Option<string?>("--kafka-bootstrap") { Description = "Consume a Kafka topic instead of taking records over HTTP: the brokers, host:port[,host:port]" };
        var kafkaTopic = new Option<string?>("--kafka-topic") { Description = "The Kafka topic to consume (one JSON object per message)" };
        var kafkaConfig = new Option<string[]>("--kafka-config") { Description = "A librdkafka setting as key=value (repeat), e.g. api.version.request=false", AllowMultipleArgumentsPerToken = true };
        var watermark = new Option<string?>("--watermark") { Description = "The event time column (a timestamp field): pipelines over the stream run their windows by it, as WATERMARK FOR would declare" };
        var watermarkDelay = new Option<string?>("--watermark-delay") { Description = "How far the watermark trails the latest event time, e.g. \"5 seconds\" (default: none)" };
        var watermarkIdle = new Option<string?>("--watermark-idle-timeout") { Description = "After how long without records a partition stops holding the watermark back, e.g. \"30 seconds\" (default: never)" };
        var create = new Command("create", "Create a stream") { name, fields, kafkaBootstrap, kafkaTopic, kafkaConfig, watermark, watermarkDelay, watermarkIdle };
        create.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var body = new StringBuilder("{\"name\": ").Append(JsonSerializer.Serialize(r.GetValue(name)));
            var given = r.GetValue(fields) ?? [];
            if (given.Length > 0)
            {
                body.Append(", \"schema\": {\"fields\": [");
                body.AppendJoin(", ", given.Select(ParseField));
                body.Append("]}");
            }
            if (r.GetValue(kafkaBootstrap) is { } bootstrap)
                body.Append(", \"source\": ").Append(KafkaSource(bootstrap, r.GetValue(kafkaTopic), r.GetValue(kafkaConfig) ?? []));
            else if (r.GetValue(kafkaTopic) is not null)
                throw new ArgumentException("--kafka-topic needs --kafka-bootstrap (the brokers to reach the topic through).");
            if (r.GetValue(watermark) is { } column)
            {
                var declared = new Dictionary<string, string> { ["column"] = column };
                if (r.GetValue(watermarkDelay) is { } delay) declared["delay"] = delay;
                if (r.GetValue(watermarkIdle) is { } idle) declared["idle_timeout"] = idle;
                body.Append(", \"watermark\": ").Append(JsonSerializer.Serialize(declared));
            }
            else if (r.GetValue(watermarkDelay) is not null || r.GetValue(watermarkIdle) is not null)
                throw new ArgumentException("--watermark-delay and --watermark-idle-timeout need --watermark (the event time column).");
            body.Append('}');
            var created = await ManagementApi.SendAsync(http, HttpMethod.Post, "api/v1/streams", body.ToString(), ct);
            if (created.TryGetProperty("source", out var source))
                AnsiConsole.MarkupLineInterpolated($"Stream [bold]{created.GetProperty("name").GetString()}[/] created; it consumes Kafka topic {source.GetProperty("topic").GetString()}");
            else
                AnsiConsole.MarkupLineInterpolated($"Stream [bold]{created.GetProperty("name").GetString()}[/] created; send records to {created.GetProperty("endpoint").GetString()}");
        }));
        command.Subcommands.Add(create);

        var list = new Command("list", "List streams");
        list.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var streams = await ManagementApi.SendAsync(http, HttpMethod.Get, "api/v1/streams", (string?)null, ct);
            var table = new Table().AddColumns("name", "fields", "records", "log bytes", "created");
            foreach (var s in streams.GetProperty("streams").EnumerateArray())
            {
                var schema = s.GetProperty("schema");
                string columns = schema.ValueKind == JsonValueKind.Null ? "(schemaless)"
                    : string.Join(", ", schema.GetProperty("fields").EnumerateArray().Select(f => $"{f.GetProperty("name").GetString()} {f.GetProperty("type").GetString()}"));
                var log = s.GetProperty("log");
                table.AddRow(Markup.Escape(s.GetProperty("name").GetString()!), Markup.Escape(columns), log.GetProperty("end_offset").ToString(),
                    log.GetProperty("size_bytes").ToString(), s.GetProperty("created_at").GetString()!);
            }
            AnsiConsole.Write(table);
        }));
        command.Subcommands.Add(list);

        var streamName = new Argument<string>("name") { Description = "Stream to send to" };
        var file = new Argument<FileInfo>("file") { Description = "NDJSON file, one record per line" };
        var batch = new Option<int>("--batch-bytes") { Description = "Bytes per request (default 900000, under the server's 1 MB limit)", DefaultValueFactory = _ => 900_000 };
        var send = new Command("send", "Send an NDJSON file to a stream, in requests of whole lines") { streamName, file, batch };
        send.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
                throw new ArgumentException($"File '{path.FullName}' does not exist.");
            int limit = r.GetValue(batch);
            long accepted = 0;
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"sending {path.Name}", maxValue: path.Length);
                    await using var input = path.OpenRead();
                    using var reader = new StreamReader(input, Encoding.UTF8);
                    var body = new MemoryStream();
                    string? line;
                    async Task Flush()
                    {
                        if (body.Length == 0) return;
                        var content = new ByteArrayContent(body.ToArray());
                        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                        var answer = await ManagementApi.SendAsync(http, HttpMethod.Post, $"streams/{r.GetValue(streamName)}", content, ct);
                        accepted += answer.GetProperty("accepted").GetInt64();
                        task.Increment(body.Length);
                        body.SetLength(0);
                    }
                    while ((line = await reader.ReadLineAsync(ct)) is not null)
                    {
                        var bytes = Encoding.UTF8.GetBytes(line + "\n");
                        if (body.Length + bytes.Length > limit)
                            await Flush();
                        body.Write(bytes);
                    }
                    await Flush();
                    task.Value = task.MaxValue;
                });
            AnsiConsole.MarkupLineInterpolated($"[green]{accepted}[/] records accepted");
        }));
        command.Subcommands.Add(send);

        foreach (var sub in command.Subcommands)
            ManagementApi.AddConnectionOptions(sub);
        return command;
    }

    private static string KafkaSource(string bootstrap, string? topic, string[] config)
    {
        if (string.IsNullOrWhiteSpace(topic))
            throw new ArgumentException("--kafka-bootstrap needs --kafka-topic (the topic to consume).");
        var settings = new Dictionary<string, string>();
        foreach (var pair in config)
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new ArgumentException($"--kafka-config '{pair}' is not key=value (e.g. api.version.request=false).");
            settings[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["type"] = "kafka", ["bootstrap_servers"] = bootstrap, ["topic"] = topic, ["format"] = "json", ["config"] = settings });
    }

    private static string ParseField(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3 || (parts.Length == 3 && parts[2] is not ("required" or "optional")))
            throw new ArgumentException($"--field '{text}' is not name:type[:required|optional], e.g. id:long:required.");
        return $"{{\"name\": {JsonSerializer.Serialize(parts[0])}, \"type\": {JsonSerializer.Serialize(parts[1])}, \"required\": {(parts.Length == 3 && parts[2] == "required" ? "true" : "false")}}}";
    }
}
