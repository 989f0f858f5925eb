using System.Globalization;
using System.Text.Json;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Scanning;
using DataPlane.Pipelines.Sinks;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary>
/// Read-only views of a table in the server's catalog for the console, where the REST catalog has none:
/// <c>GET /api/v1/tables/NS/TABLE/rows?limit=N</c>, the first rows of the current snapshot (row-level deletes applied,
/// read through the current schema), and <c>GET /api/v1/tables/NS/TABLE/files?limit=N</c>, its data and delete files
/// with a size distribution. NS is the namespace with levels joined by %1F, as in the REST catalog's paths.
/// </summary>
internal sealed class TablesApi(ICatalog catalog)
{
    public const int MaxRows = 100;
    public const int MaxFiles = 1000;

    /// <summary>Upper bounds of the size distribution's buckets (the last one is open).</summary>
    private static readonly (long Below, string Label)[] SizeBuckets =
    [
        (64L << 10, "< 64 KiB"), (1L << 20, "64 KiB–1 MiB"), (16L << 20, "1–16 MiB"), (128L << 20, "16–128 MiB"), (512L << 20, "128–512 MiB"), (long.MaxValue, "≥ 512 MiB"),
    ];

    public async Task RowsAsync(HttpContext context, string ns, string name)
    {
        if (await LimitAsync(context, 20, MaxRows) is not { } limit || await LoadAsync(context, ns, name) is not { } table)
            return;
        var scan = table.NewScan();
        var tasks = await scan.PlanFilesAsync(context.RequestAborted);
        var columns = table.Schema.Columns.Select(c => c.Name).ToList();
        var rows = new List<byte[]>();
        // Rows are rendered as they are read (each batch is disposed before the next); the answer is small.
        foreach (var task in tasks)
        {
            await foreach (var batch in ScanTaskReader.ReadAsync(table, task, context.RequestAborted))
            {
                using (batch)
                {
                    for (int row = 0; row < batch.Length && rows.Count < limit; row++)
                    {
                        using var buffer = new MemoryStream();
                        using (var w = new Utf8JsonWriter(buffer))
                            ArrowJson.WriteRow(w, batch, row);
                        rows.Add(buffer.ToArray());
                    }
                }
                if (rows.Count >= limit) break;
            }
            if (rows.Count >= limit) break;
        }
        await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            if (scan.Snapshot is { } s) w.WriteNumber("snapshot_id", s.SnapshotId); else w.WriteNull("snapshot_id");
            w.WriteStartArray("columns");
            foreach (var c in columns) w.WriteStringValue(c);
            w.WriteEndArray();
            w.WriteStartArray("rows");
            foreach (var row in rows) w.WriteRawValue(row, skipInputValidation: true);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public async Task FilesAsync(HttpContext context, string ns, string name)
    {
        if (await LimitAsync(context, 200, MaxFiles) is not { } limit || await LoadAsync(context, ns, name) is not { } table)
            return;
        var scan = table.NewScan();
        var tasks = await scan.PlanFilesAsync(context.RequestAborted);
        var files = new List<(DataFile File, string Partition)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            var partition = task.Spec.Fields.Count == 0 ? "" : task.Spec.PartitionPath(table.Schema, task.File.Partition);
            if (seen.Add(task.File.FilePath)) files.Add((task.File, partition));
            foreach (var delete in task.DeleteFiles)
                if (seen.Add(delete.FilePath)) files.Add((delete, ""));
        }
        var histogram = new long[SizeBuckets.Length];
        foreach (var (file, _) in files)
            histogram[Array.FindIndex(SizeBuckets, b => file.FileSizeInBytes < b.Below)]++;
        await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            if (scan.Snapshot is { } s) w.WriteNumber("snapshot_id", s.SnapshotId); else w.WriteNull("snapshot_id");
            w.WriteNumber("total_files", files.Count);
            w.WriteNumber("total_bytes", files.Sum(f => f.File.FileSizeInBytes));
            w.WriteStartArray("size_histogram");
            for (int i = 0; i < SizeBuckets.Length; i++)
            {
                w.WriteStartObject();
                w.WriteString("label", SizeBuckets[i].Label);
                w.WriteNumber("files", histogram[i]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("files");
            foreach (var (file, partition) in files.Take(limit))
            {
                w.WriteStartObject();
                w.WriteString("path", file.FilePath);
                w.WriteString("content", file.Content switch { FileContent.Data => "data", FileContent.PositionDeletes => "position deletes", _ => "equality deletes" });
                w.WriteString("partition", partition);
                w.WriteNumber("records", file.RecordCount);
                w.WriteNumber("size_bytes", file.FileSizeInBytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The table, or null with a 404 naming it written.</summary>
    private async Task<Iceberg.Operations.Table?> LoadAsync(HttpContext context, string ns, string name)
    {
        var id = new TableIdentifier(ns.Split('\u001f'), name);
        Iceberg.Operations.Table? table = null;
        try
        {
            table = await catalog.TryLoadTableAsync(id, context.RequestAborted);
        }
        catch (CatalogException)
        {
            // No such namespace: the same answer as no such table.
        }
        if (table is null)
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status404NotFound, $"No table named '{string.Join('.', id.Namespace)}.{name}' in the catalog (GET /iceberg/v1/namespaces lists them).");
        return table;
    }

    private static async Task<int?> LimitAsync(HttpContext context, int byDefault, int max)
    {
        var text = context.Request.Query["limit"].ToString();
        if (text.Length == 0) return byDefault;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int limit) && limit >= 1 && limit <= max) return limit;
        await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest,
            $"?limit= must be a whole number from 1 to {max} (got '{(text.Length <= 40 ? text : text[..40] + "...")}').");
        return null;
    }
}
