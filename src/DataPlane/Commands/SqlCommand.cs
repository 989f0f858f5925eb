using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Streams;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.EventTime;
using IcebergType = DataPlane.Iceberg.Types.IcebergType;

namespace DataPlane.Commands;

/// <summary>
/// <c>dataplane sql explain|run</c>: try a transform before deploying it. <c>explain</c> compiles SQL against a schema
/// (a file, or a running server's stream) and prints each statement's output columns and plan; <c>run</c> runs it over
/// sample records (NDJSON or a JSON array from a file or stdin, or a Parquet file), the source named <c>input</c>, and
/// prints the result as <c>dataplane table scan</c> prints rows (or as NDJSON or CSV).
/// </summary>
internal static class SqlCommand
{
    /// <summary>The most input <c>run</c> reads: sample records, not a data set.</summary>
    public const long MaxInputBytes = 256L * 1024 * 1024;

    /// <summary>The name the input has in <c>run</c>'s SQL.</summary>
    public const string InputName = "input";

    public static Command Create()
    {
        var command = new Command("sql", "Try SQL before a pipeline runs it: explain a statement's plan, or run a query over sample records.");
        command.Subcommands.Add(Explain());
        command.Subcommands.Add(Run());
        return command;
    }

    private static Command Explain()
    {
        var sql = new Argument<string>("sql") { Description = "The SQL: INSERT INTO <sink> SELECT ... FROM <stream> (one or more, separated by ;), or a SELECT" };
        var schema = new Option<FileInfo?>("--schema") { Description = "A JSON file with the source's schema as a stream declares it: {\"fields\": [{\"name\": \"id\", \"type\": \"long\"}, ...]}" };
        var stream = new Option<string?>("--stream") { Description = "Compile against this stream of the server (default: the one the SQL reads in FROM), as a pipeline would" };
        var command = new Command("explain", "Compile SQL and print each statement's output columns and plan (against --schema, or a server's stream)") { sql, schema, stream };
        ManagementApi.AddConnectionOptions(command);
        command.SetAction((r, ct) => Guarded(async () =>
        {
            string text = r.GetValue(sql)!;
            var sources = Sources(text);
            SqlProgram program;
            if (LookupNames(text).Count > 0)
            {
                // The tables a lookup join reads are the server's: it compiles and explains them as it would the pipeline.
                if (r.GetValue(schema) is not null)
                    throw new ArgumentException($"The SQL looks up {string.Join(", ", LookupNames(text))}: explain it against a server (leave out --schema), which holds the tables.");
                using var server = ManagementApi.CreateClient(r);
                var validated = await ManagementApi.SendAsync(server, HttpMethod.Post, "api/v1/pipelines/validate", JsonSerializer.Serialize(new { sql = text }), CancellationToken.None);
                foreach (var statement in validated.GetProperty("statements").EnumerateArray())
                {
                    Console.WriteLine($"INSERT INTO {statement.GetProperty("sink").GetString()}");
                    foreach (var field in statement.GetProperty("schema").EnumerateArray())
                        Console.WriteLine($"  {field.GetProperty("name").GetString()} {field.GetProperty("type")}{(field.GetProperty("required").GetBoolean() ? " required" : "")}");
                    Console.Write(string.Join("", statement.GetProperty("explain").GetString()!.Split('\n').Where(l => l.Length > 0).Select(l => "  " + l + "\n")));
                    if (statement.TryGetProperty("stateful", out var stateful))
                        foreach (var op in stateful.EnumerateArray())
                            Console.WriteLine(StateLine(op.GetProperty("operator").GetString()!, op.GetProperty("detail").GetString()!,
                                [.. op.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!)]));
                }
                WriteScaleOut(validated);
                return;
            }
            if (r.GetValue(schema) is { } file)
                program = Compile(text, sources.ToDictionary(n => n, _ => ReadSchema(file).ArrowSchema), SqlMode.Bounded);
            else
            {
                // The stream's schema from the server; compiled as the pipeline would be (a stream has no end).
                string name = r.GetValue(stream) ?? (sources.Count == 1 ? sources[0] : throw new ArgumentException(
                    sources.Count == 0 ? "The SQL reads no stream; give --schema FILE." : $"The SQL reads {string.Join(", ", sources)}; a pipeline reads one stream."));
                using var http = ManagementApi.CreateClient(r);
                var described = await ManagementApi.SendAsync(http, HttpMethod.Get, $"api/v1/streams/{Uri.EscapeDataString(name)}", (string?)null, CancellationToken.None);
                var definition = StreamFrom(name, described);
                program = Compile(text, sources.Count == 0 ? new Dictionary<string, Schema> { [name] = definition.ArrowSchema } : sources.ToDictionary(n => n, _ => definition.ArrowSchema), SqlMode.Streaming,
                    definition.Watermark is { } watermark ? (sources.Count == 0 ? [name] : sources).ToDictionary(n => n, _ => watermark.Definition) : null);
            }
            foreach (var statement in program.Statements)
            {
                Console.WriteLine(statement.Sink is null ? "SELECT" : $"INSERT INTO {statement.Sink}");
                foreach (var field in statement.OutputSchema.FieldsList)
                    Console.WriteLine($"  {field.Name} {TypeText(field)}{(field.IsNullable ? "" : " required")}");
                if (statement.UpdatingKeys is { } keys)
                    Console.WriteLine($"  one row per key: the sink table's identifier fields are [{string.Join(", ", keys)}]");
                Console.Write(string.Join("", statement.Explain().Split('\n').Where(l => l.Length > 0).Select(l => "  " + l + "\n")));
                foreach (var op in statement.StatefulOperators())
                    Console.WriteLine(StateLine(op.Operator, op.Detail, op.Keys));
            }
            // Against a server's Kafka-backed stream: whether the pipeline would scale with its partitions, as the server plans it.
            if (r.GetValue(schema) is null && r.GetValue(stream) is null && program.Statements.All(st => st.Sink is not null))
            {
                using var server = ManagementApi.CreateClient(r);
                WriteScaleOut(await ManagementApi.SendAsync(server, HttpMethod.Post, "api/v1/pipelines/validate", JsonSerializer.Serialize(new { sql = text }), CancellationToken.None));
            }
        }));
        return command;
    }

    /// <summary>A stateful operator under the plan: <c>  state: WindowAggregate tumble(60s) keys [user]</c> (keys [] : one group per window).</summary>
    private static string StateLine(string op, string detail, IReadOnlyList<string> keys) =>
        $"  state: {op}{(detail.Length > 0 ? " " + detail : "")} keys [{string.Join(", ", keys)}]";

    /// <summary>How the server would spread the pipeline over its workers (a Kafka-backed stream's; nothing for a local log).</summary>
    private static void WriteScaleOut(JsonElement validated)
    {
        if (validated.TryGetProperty("scale_out", out var scaleOut) && scaleOut.GetString() is { } text)
            Console.WriteLine($"workers: {text}");
    }

    private static Command Run()
    {
        var sql = new Argument<string>("sql") { Description = "A query over the source named input, e.g. SELECT id, upper(name) AS who FROM input WHERE id > 3" };
        var input = new Option<FileInfo?>("--input") { Description = "The records: NDJSON or a JSON array (.json, .ndjson), or a .parquet file; stdin when left out or -" };
        var schema = new Option<FileInfo?>("--schema") { Description = "The input's schema as a stream declares it ({\"fields\": [...]}); inferred from the JSON records when left out" };
        var format = new Option<string>("--format") { Description = "How to print the result: table (as dataplane table scan), ndjson or csv", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "ndjson", "csv");
        var command = new Command("run", "Run a query over sample records (the source is named input) and print the result") { sql, input, schema, format };
        command.SetAction((r, ct) => Guarded(async () =>
        {
            {
                var file = r.GetValue(input);
                var batches = file is not null && file.Extension.Equals(".parquet", StringComparison.OrdinalIgnoreCase)
                    ? await ReadParquetAsync(file, ct)
                    : ReadJson(await ReadInputAsync(file, ct), r.GetValue(schema));
                var inputSchema = batches.Count > 0 ? batches[0].Schema : throw new ArgumentException("The input has no records.");
                var program = Compile(r.GetValue(sql)!, new Dictionary<string, Schema> { [InputName] = inputSchema }, SqlMode.Bounded);
                var outputs = program.Run(new Dictionary<string, IReadOnlyList<RecordBatch>> { [InputName] = batches }, out var errors);
                for (int s = 0; s < program.Statements.Count; s++)
                    Print(program.Statements[s].OutputSchema, outputs[s], r.GetValue(format)!);
                foreach (var dropped in errors.Snapshot())
                    Console.Error.WriteLine($"dropped {dropped.Count} record(s): {dropped.Reason.Code} ({dropped.Reason.Description}){(dropped.RecentSamples.Count > 0 ? ", e.g. " + dropped.RecentSamples[^1] : "")}");
            }
        }));
        return command;
    }

    /// <summary>Runs a command; a problem with its input is one message on stderr (as written: a SQL error's caret stays
    /// under its spot) and exit code 1.</summary>
    private static async Task<int> Guarded(Func<Task> action)
    {
        try
        {
            await action();
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or JsonException
                                       or HttpRequestException or InvalidOperationException or ParquetSharp.ParquetException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static IReadOnlyList<string> Sources(string sql)
    {
        try
        {
            return SqlProgram.SourceNames(sql);
        }
        catch (SqlException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    private static IReadOnlyList<string> LookupNames(string sql)
    {
        try
        {
            return SqlProgram.LookupNames(sql);
        }
        catch (SqlException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    private static SqlProgram Compile(string sql, IReadOnlyDictionary<string, Schema> sources, SqlMode mode, IReadOnlyDictionary<string, WatermarkDefinition>? watermarks = null)
    {
        try
        {
            return SqlProgram.Compile(sql, sources, mode, watermarks);
        }
        catch (SqlException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    /// <summary>A stream-style schema file: <c>{"fields": [...]}</c>, or a whole stream definition with <c>"schema"</c>.</summary>
    private static StreamDefinition ReadSchema(FileInfo file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(file.FullName));
        var root = json.RootElement;
        var schema = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("schema", out var s) ? s : root;
        return FromSchema(InputName, schema.GetRawText());
    }

    /// <summary>A server's stream as a pipeline compiles against it: its schema and the watermark its JSON declares.</summary>
    private static StreamDefinition StreamFrom(string name, JsonElement described) =>
        FromSchema(name, described.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object ? schema.GetRawText() : null,
            described.TryGetProperty("watermark", out var watermark) && watermark.ValueKind == JsonValueKind.Object ? watermark.GetRawText() : null);

    private static StreamDefinition FromSchema(string name, string? schemaJson, string? watermarkJson = null)
    {
        using var body = JsonDocument.Parse($"{{\"name\": {JsonSerializer.Serialize(name)}{(schemaJson is null ? "" : ", \"schema\": " + schemaJson)}{(watermarkJson is null ? "" : ", \"watermark\": " + watermarkJson)}}}");
        return StreamDefinition.Parse(body.RootElement, DateTimeOffset.UnixEpoch);
    }

    private static async Task<byte[]> ReadInputAsync(FileInfo? file, CancellationToken ct)
    {
        await using var stream = file is null || file.Name == "-" ? Console.OpenStandardInput() : file.OpenRead();
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxInputBytes)
                throw new ArgumentException($"The input is larger than {MaxInputBytes / (1024 * 1024)} MiB; `sql run` is for sample records.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>JSON records as one batch of the given schema, or of the one inferred from them.</summary>
    private static IReadOnlyList<RecordBatch> ReadJson(byte[] body, FileInfo? schemaFile)
    {
        var stream = schemaFile is not null ? ReadSchema(schemaFile) : FromSchema(InputName, JsonSchemaInference.Infer(body));
        var parser = new RecordBatchParser(stream);
        var outcome = parser.Parse(body, int.MaxValue);
        if (outcome != ParseOutcome.Accepted)
            throw new ArgumentException(parser.Error ?? string.Join("; ", parser.Problems.Take(10).Select(p => $"record {p.Record + 1}{(p.Field is null ? "" : $" field '{p.Field}'")}: {p.Reason}")));
        return [parser.Build(stream.ArrowSchema)];
    }

    private static async Task<IReadOnlyList<RecordBatch>> ReadParquetAsync(FileInfo file, CancellationToken ct)
    {
        using var reader = new ParquetSharp.Arrow.FileReader(file.FullName);
        using var batches = reader.GetRecordBatchReader();
        var list = new List<RecordBatch>();
        long bytes = 0;
        while (await batches.ReadNextRecordBatchAsync(ct) is { } batch)
        {
            list.Add(batch);
            bytes += batch.Arrays.Sum(a => a.Data.Buffers.Sum(b => (long)b.Length));
            if (bytes > MaxInputBytes)
                throw new ArgumentException($"The input is larger than {MaxInputBytes / (1024 * 1024)} MiB; `sql run` is for sample records.");
        }
        return list;
    }

    private static string TypeText(Field field)
    {
        try
        {
            return ArrowSchemaMapping.ToIceberg(new Schema([field], null)).Columns[0].Type.ToString()!;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
        {
            return field.DataType.Name;
        }
    }

    private static void Print(Schema schema, IReadOnlyList<RecordBatch> batches, string format)
    {
        IReadOnlyList<IcebergType> types;
        try
        {
            types = ArrowSchemaMapping.ToIceberg(schema).Columns.Select(c => c.Type).ToList();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
        {
            throw new ArgumentException($"The result has a column no table could hold ({e.Message}); CAST it to VARCHAR to print it.");
        }
        var names = schema.FieldsList.Select(f => f.Name).ToList();
        switch (format)
        {
            case "ndjson":
            {
                using var stdout = Console.OpenStandardOutput();
                using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                foreach (var batch in batches)
                    for (int row = 0; row < batch.Length; row++)
                    {
                        ArrowJson.WriteRow(writer, batch, row);
                        writer.Flush();
                        stdout.WriteByte((byte)'\n');
                        writer.Reset();
                    }
                break;
            }
            case "csv":
                Console.WriteLine(string.Join(",", names.Select(Csv)));
                foreach (var batch in batches)
                    for (int row = 0; row < batch.Length; row++)
                        Console.WriteLine(string.Join(",", Enumerable.Range(0, batch.ColumnCount).Select(c =>
                            batch.Column(c).IsNull(row) ? "" : Csv(ScanValueText.Format(batch.Column(c), row, types[c])))));
                break;
            default:
                Console.WriteLine(string.Join(" | ", names));
                long count = 0;
                foreach (var batch in batches)
                    for (int row = 0; row < batch.Length; row++, count++)
                        Console.WriteLine(string.Join(" | ", Enumerable.Range(0, batch.ColumnCount).Select(c => ScanValueText.Format(batch.Column(c), row, types[c]))));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"({count} row{(count == 1 ? "" : "s")})"));
                break;
        }
    }

    /// <summary>RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled.</summary>
    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
