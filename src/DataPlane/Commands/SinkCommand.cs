using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace DataPlane.Commands;

/// <summary><c>dataplane sink create</c>: an Iceberg table or a folder of Parquet files that a pipeline writes to.</summary>
internal static class SinkCommand
{
    public static Command Create()
    {
        var command = new Command("sink", "Create sinks (where pipelines write) on a running DataPlane server.");
        var name = new Argument<string>("name") { Description = "Sink name: [a-z][a-z0-9_]*" };
        var type = new Option<string>("--type") { Description = "iceberg (default) or files", DefaultValueFactory = _ => "iceberg" };
        var ns = new Option<string?>("--namespace") { Description = "Iceberg namespace (default: default)" };
        var table = new Option<string?>("--table") { Description = "Iceberg table (default: the sink name)" };
        var partition = new Option<string[]>("--partition") { Description = "Partition term such as day(ts) (repeat)", AllowMultipleArgumentsPerToken = true };
        var path = new Option<string?>("--path") { Description = "files sinks: folder under the warehouse" };
        var format = new Option<string?>("--format") { Description = "files sinks: parquet (default) or ndjson" };
        var maxFileBytes = new Option<long?>("--max-file-bytes") { Description = "Roll a file at this size (default 128 MB)" };
        var maxRows = new Option<long?>("--max-rows") { Description = "Roll after this many rows" };
        var interval = new Option<int?>("--interval-seconds") { Description = "Roll at least this often (default 60)" };
        var create = new Command("create", "Create a sink") { name, type, ns, table, partition, path, format, maxFileBytes, maxRows, interval };
        ManagementApi.AddConnectionOptions(create);
        create.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var body = new Dictionary<string, object?>
            {
                ["name"] = r.GetValue(name),
                ["type"] = r.GetValue(type),
                ["rolling"] = new Dictionary<string, object?> { ["max_file_bytes"] = r.GetValue(maxFileBytes), ["max_rows"] = r.GetValue(maxRows), ["interval_seconds"] = r.GetValue(interval) },
            };
            if (r.GetValue(ns) is { } n) body["namespace"] = n;
            if (r.GetValue(table) is { } t) body["table"] = t;
            if (r.GetValue(path) is { } p) body["path"] = p;
            if (r.GetValue(format) is { } f) body["format"] = f;
            if (r.GetValue(partition) is { Length: > 0 } parts) body["partition"] = parts;
            var created = await ManagementApi.SendAsync(http, HttpMethod.Post, "api/v1/sinks", JsonSerializer.Serialize(body), ct);
            AnsiConsole.MarkupLineInterpolated($"Sink [bold]{created.GetProperty("name").GetString()}[/] created: {created.GetRawText()}");
        }));
        command.Subcommands.Add(create);
        return command;
    }
}
