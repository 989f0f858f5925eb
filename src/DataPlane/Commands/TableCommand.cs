using System.CommandLine;
using System.Globalization;
using Apache.Arrow;
using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Scanning;
using DataPlane.Pipelines.Ingest;

namespace DataPlane.Commands;

/// <summary>
/// <c>dataplane table create|list|describe|snapshots|scan|append|drop</c> (and the maintenance jobs of <see cref="TableMaintenanceCommand"/>) on DataPlane's catalog: the embedded one under the
/// data directory (the same SQLite file and warehouse <c>dataplane serve</c> uses), or a running server's with
/// <c>--server URL</c>.
/// </summary>
internal static class TableCommand
{
    public static Command Create()
    {
        var command = new Command("table", "Iceberg tables of DataPlane's catalog (the data directory's, or a running server's with --server): create, list, describe, list snapshots, scan, append, drop, and maintain (compact, expire-snapshots, remove-orphan-files, rewrite-manifests).");
        command.Subcommands.Add(CreateTable());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Describe());
        command.Subcommands.Add(Snapshots());
        command.Subcommands.Add(Scan());
        command.Subcommands.Add(Append());
        command.Subcommands.Add(Drop());
        TableMaintenanceCommand.AddTo(command);
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "Table name: namespace.table, e.g. db.events" };

    private static Command CreateTable()
    {
        var catalog = TableCatalog.Options.Create();
        var name = NameArgument();
        var schema = new Option<string?>("--schema") { Description = "Columns as id:long!,data:string,ts:timestamptz (! = required), or an Iceberg schema JSON" };
        var schemaFile = new Option<string?>("--schema-file") { Description = "File with an Iceberg schema JSON" };
        var partition = new Option<string?>("--partition") { Description = "Partitioning, e.g. day(ts),bucket(16,id),truncate(4,data),region" };
        var property = new Option<string[]>("--property") { Description = "Table property key=value (repeatable)" };
        var command = new Command("create", "Create an empty table (and its namespace when missing).") { name, schema, schemaFile, partition, property };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            var schemaText = r.GetValue(schema) ?? (r.GetValue(schemaFile) is { } f ? await File.ReadAllTextAsync(f, ct) : null)
                ?? throw new ArgumentException("Give the columns with --schema (e.g. id:long!,data:string) or --schema-file.");
            var parsed = TableDefinition.ParseSchema(schemaText);
            var spec = TableDefinition.ParsePartitionSpec(parsed, r.GetValue(partition));
            var props = new Dictionary<string, string>();
            foreach (var p in r.GetValue(property) ?? [])
            {
                var eq = p.IndexOf('=');
                if (eq <= 0) throw new ArgumentException($"--property '{p}' must be key=value.");
                props[p[..eq]] = p[(eq + 1)..];
            }
            var id = TableIdentifier.Parse(r.GetValue(name)!);
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            var (location, metadataLocation) = await c.CreateAsync(id, parsed, spec, props, ct);
            Console.WriteLine($"Created {id} at {location}");
            Console.WriteLine($"Metadata: {metadataLocation}");
        }));
        return command;
    }

    private static Command Append()
    {
        var catalog = TableCatalog.Options.Create();
        var name = NameArgument();
        var file = new Argument<string>("file") { Description = "NDJSON or one JSON array of records, each value as a stream takes it (- reads standard input)" };
        var command = new Command("append", "Append JSON records to a table as one snapshot; its files are written by the table's write properties.") { name, file };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            var id = TableIdentifier.Parse(r.GetValue(name)!);
            var path = r.GetValue(file)!;
            await using var input = path == "-" ? Console.OpenStandardInput() : File.OpenRead(path);
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            var table = await c.LoadAsync(id, ct);
            long records = 0;
            IReadOnlyList<Iceberg.Manifests.DataFile> files;
            await using (var writer = new TableDataWriter(table))
            {
                await foreach (var batch in JsonRecords.ReadAsync(input, table.Schema, ct))
                {
                    await writer.WriteAsync(batch, ct);
                    records += batch.Length;
                }
                files = await writer.CompleteAsync(ct);
            }
            if (records == 0)
                throw new ArgumentException($"{path} holds no records; nothing was appended.");
            var snapshot = await table.AppendAsync(files, cancellationToken: ct);
            Console.WriteLine($"Appended {records} record(s) in {files.Count} file(s) to {id}: snapshot {snapshot.SnapshotId}");
        }));
        return command;
    }

    private static Command List()
    {
        var catalog = TableCatalog.Options.Create();
        var ns = new Argument<string?>("namespace") { Description = "Only this namespace's tables (dotted, e.g. db); default every namespace's", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List tables, one namespace.table per line.") { ns };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            foreach (var id in await c.ListAsync(r.GetValue(ns)?.Split('.'), ct))
                Console.WriteLine(id);
        }));
        return command;
    }

    private static Command Drop()
    {
        var catalog = TableCatalog.Options.Create();
        var name = NameArgument();
        var purge = new Option<bool>("--purge") { Description = "Also delete the table's data and metadata files" };
        var command = new Command("drop", "Drop a table from the catalog.") { name, purge };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            var id = TableIdentifier.Parse(r.GetValue(name)!);
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            if (!await c.DropAsync(id, r.GetValue(purge), ct))
                throw new InvalidOperationException($"No table {id} in the catalog.");
            Console.WriteLine(r.GetValue(purge) ? $"Dropped {id} and deleted its files" : $"Dropped {id}");
        }));
        return command;
    }

    private static Command Describe()
    {
        var catalog = TableCatalog.Options.Create();
        var name = NameArgument();
        var json = new Option<bool>("--json") { Description = "Print the table metadata JSON" };
        var command = new Command("describe", "Show a table's schema, partitioning, sort order, properties and current snapshot.") { name, json };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            var table = await c.LoadAsync(TableIdentifier.Parse(r.GetValue(name)!), ct);
            var m = table.Metadata;
            if (r.GetValue(json))
            {
                Console.WriteLine(m.ToJson());
                return;
            }
            Console.WriteLine($"Table:      {r.GetValue(name)}");
            Console.WriteLine($"UUID:       {m.TableUuid}");
            Console.WriteLine($"Location:   {m.Location}");
            Console.WriteLine($"Metadata:   {table.State.MetadataLocation}");
            Console.WriteLine($"Format:     v{m.FormatVersion}");
            Console.WriteLine($"Schema {m.CurrentSchemaId}:");
            foreach (var (id, field) in m.CurrentSchema.FieldsById.OrderBy(p => p.Key))
                Console.WriteLine($"  {id,4}  {m.CurrentSchema.FindColumnName(id),-24} {field.Type,-20} {(field.Required ? "required" : "optional")}{(field.Doc is null ? "" : "  -- " + field.Doc)}");
            Console.WriteLine($"Partition spec {m.DefaultSpecId}:{(m.DefaultSpec.Fields.Count == 0 ? " unpartitioned" : "")}");
            foreach (var f in m.DefaultSpec.Fields)
                Console.WriteLine($"  {f.FieldId,4}  {f.Name,-24} {f.Transform}({m.CurrentSchema.FindColumnName(f.SourceId)})");
            Console.WriteLine($"Sort order {m.DefaultSortOrderId}:{(m.DefaultSortOrder.IsUnsorted ? " unsorted" : "")}");
            foreach (var f in m.DefaultSortOrder.Fields)
                Console.WriteLine($"  {f.Transform}({m.CurrentSchema.FindColumnName(f.SourceId)}) {f.Direction} {f.NullOrder}");
            if (m.Properties.Count > 0)
            {
                Console.WriteLine("Properties:");
                foreach (var (k, v) in m.Properties.OrderBy(p => p.Key, StringComparer.Ordinal)) Console.WriteLine($"  {k} = {v}");
            }
            var current = m.CurrentSnapshot;
            Console.WriteLine(current is null ? "Current snapshot: none" : $"Current snapshot: {current.SnapshotId} ({current.Operation}, {Time(current.TimestampMs)}, {Get(current, "total-records")} records in {Get(current, "total-data-files")} files)");
            foreach (var (refName, reference) in m.Refs.OrderBy(p => p.Key, StringComparer.Ordinal))
                Console.WriteLine($"  {(reference.IsBranch ? "branch" : "tag"),-6} {refName} -> {reference.SnapshotId}");
        }));
        return command;
    }

    private static Command Snapshots()
    {
        var catalog = TableCatalog.Options.Create();
        var name = NameArgument();
        var command = new Command("snapshots", "List a table's snapshots, oldest first.") { name };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            var m = (await c.LoadAsync(TableIdentifier.Parse(r.GetValue(name)!), ct)).Metadata;
            Console.WriteLine($"{"snapshot-id",-20} {"parent",-20} {"seq",4} {"committed-at (UTC)",-24} {"operation",-10} {"added-files",11} {"added-records",13} {"total-records",13}");
            foreach (var s in m.Snapshots.OrderBy(s => s.SequenceNumber))
            {
                var marker = s.SnapshotId == m.CurrentSnapshotId ? " *" : "";
                Console.WriteLine($"{s.SnapshotId,-20} {s.ParentSnapshotId?.ToString(CultureInfo.InvariantCulture) ?? "-",-20} {s.SequenceNumber,4} {Time(s.TimestampMs),-24} {s.Operation,-10} {Get(s, "added-data-files"),11} {Get(s, "added-records"),13} {Get(s, "total-records"),13}{marker}");
            }
        }));
        return command;
    }

    private static Command Scan()
    {
        var catalog = TableCatalog.Options.Create();
        var name = NameArgument();
        var snapshot = new Option<long?>("--snapshot") { Description = "Read this snapshot id (time travel)" };
        var asOf = new Option<string?>("--as-of") { Description = "Read the snapshot current at this time (ISO 8601, e.g. 2024-01-01T00:00:00Z)" };
        var reference = new Option<string?>("--ref") { Description = "Read this branch or tag" };
        var filter = new Option<string[]>("--where") { Description = "Filter 'column op value' with op one of = < <= > >= (repeatable, ANDed), or 'column is null'/'column is not null'" };
        var rows = new Option<int>("--rows") { Description = "Print up to this many rows of the planned files (0: the plan only)", DefaultValueFactory = _ => 20 };
        var command = new Command("scan", "Scan a table: the data files that may hold matching rows after partition and metrics pruning, then their first rows read through the current schema.") { name, snapshot, asOf, reference, filter, rows };
        catalog.AddTo(command);
        command.SetAction(async (r, ct) => await Guarded(async () =>
        {
            using var c = await TableCatalog.OpenAsync(r, catalog, ct);
            var table = await c.LoadAsync(TableIdentifier.Parse(r.GetValue(name)!), ct);
            var scan = table.NewScan();
            if (r.GetValue(snapshot) is { } id) scan.UseSnapshot(id);
            if (r.GetValue(asOf) is { } t)
                scan.AsOfTime(DateTimeOffset.Parse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds());
            if (r.GetValue(reference) is { } refName) scan.UseRef(refName);
            foreach (var w in r.GetValue(filter) ?? []) scan.Filter(ParseFilter(w));
            var tasks = await scan.PlanFilesAsync(ct);
            Console.WriteLine($"Snapshot {scan.Snapshot?.SnapshotId.ToString(CultureInfo.InvariantCulture) ?? "none"}: {tasks.Count} file(s), {tasks.Sum(x => x.File.RecordCount)} record(s)");
            foreach (var task in tasks)
            {
                var partition = task.Spec.Fields.Count == 0 ? "" : "  " + task.Spec.PartitionPath(table.Metadata.CurrentSchema, task.File.Partition);
                Console.WriteLine($"{task.File.FilePath}  {task.File.RecordCount} rows  {task.File.FileSizeInBytes} bytes{partition}");
            }
            await PrintRowsAsync(table, tasks, r.GetValue(rows), ct);
        }));
        return command;
    }

    /// <summary>Rows of the planned files, projected by field id onto the current schema (renamed, added and dropped
    /// columns read as the schema says now), each value as DuckDB shows it. The filter prunes files; rows inside a kept
    /// file are not filtered.</summary>
    private static async Task PrintRowsAsync(DataPlane.Iceberg.Operations.Table table, IReadOnlyList<FileScanTask> tasks, int limit, CancellationToken ct)
    {
        if (limit <= 0 || tasks.Count == 0) return;
        var columns = table.Schema.Columns;
        Console.WriteLine();
        Console.WriteLine(string.Join(" | ", columns.Select(c => c.Name)));
        var printed = 0;
        foreach (var task in tasks)
        {
            await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(task.File.FilePath), table.Schema, cancellationToken: ct))
            {
                using (batch)
                {
                    for (var row = 0; row < batch.Length && printed < limit; row++, printed++)
                        Console.WriteLine(string.Join(" | ", Enumerable.Range(0, batch.ColumnCount).Select(c => ScanValueText.Format(batch.Column(c), row, columns[c].Type))));
                }
                if (printed >= limit) return;
            }
        }
    }

    private static Expression ParseFilter(string text)
    {
        var t = text.Trim();
        var lower = t.ToLowerInvariant();
        if (lower.EndsWith(" is not null", StringComparison.Ordinal)) return Expression.NotNull(t[..^" is not null".Length].Trim());
        if (lower.EndsWith(" is null", StringComparison.Ordinal)) return Expression.IsNull(t[..^" is null".Length].Trim());
        foreach (var op in new[] { "<=", ">=", "=", "<", ">" })
        {
            var at = t.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0) continue;
            var column = t[..at].Trim();
            var value = t[(at + op.Length)..].Trim().Trim('\'', '"');
            return op switch
            {
                "=" => Expression.Equal(column, value),
                "<" => Expression.LessThan(column, value),
                "<=" => Expression.LessThanOrEqual(column, value),
                ">" => Expression.GreaterThan(column, value),
                _ => Expression.GreaterThanOrEqual(column, value),
            };
        }
        throw new ArgumentException($"Filter '{text}' must be 'column op value' (op: = < <= > >=) or 'column is [not] null'.");
    }

    private static string Get(Snapshot s, string key) => s.Summary.TryGetValue(key, out var v) ? v : "-";

    private static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static async Task<int> Guarded(Func<Task> action)
    {
        try
        {
            await action();
            return 0;
        }
        catch (CatalogException e)
        {
            // Named as the catalog names it, whichever catalog it came from.
            Console.Error.WriteLine($"error: {e.Type}: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or NotSupportedException or CommitFailedException
                                       or IOException or HttpRequestException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (RestCatalogException e)
        {
            Console.Error.WriteLine($"error: {e.Type}: {e.ServerMessage}");
            return 1;
        }
    }
}
