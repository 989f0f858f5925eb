using System.Runtime.CompilerServices;
using System.Text;
using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Types;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// Reads a planned data file as Arrow batches of the scan's schema with its row-level deletes applied: rows whose
/// position a position delete file lists for this file, and rows whose delete columns equal a row of an equality
/// delete file, are left out. Delete files are read whole (they are small by design); data is streamed.
/// </summary>
public static class ScanTaskReader
{
    /// <summary>The position delete file schema (spec: file_path 2147483546, pos 2147483545).</summary>
    public static readonly IcebergSchema PositionDeleteSchema = new(0,
    [
        NestedField.Require(2147483546, "file_path", PrimitiveType.String),
        NestedField.Require(2147483545, "pos", PrimitiveType.Long),
    ]);

    public static async IAsyncEnumerable<RecordBatch> ReadAsync(Table table, FileScanTask task,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var positions = await DeletedPositionsAsync(table, task, cancellationToken);
        var equality = await EqualityDeleteSet.ReadAsync(table, task, cancellationToken);
        try
        {
            await foreach (var batch in ReadAsync(table, task, positions, equality, cancellationToken))
                yield return batch;
        }
        finally
        {
            foreach (var set in equality) set.Dispose();
        }
    }

    private static async IAsyncEnumerable<RecordBatch> ReadAsync(Table table, FileScanTask task, HashSet<long> positions,
        List<EqualityDeleteSet> equality, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var projection = task.ProjectedSchema;
        if (positions.Count == 0 && equality.Count == 0)
        {
            await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(task.File.FilePath), projection, cancellationToken: cancellationToken))
                yield return batch;
            yield break;
        }
        // Delete columns the projection lacks are read too, and dropped after filtering.
        var extra = equality.SelectMany(e => e.Fields).Where(f => projection.Columns.All(c => c.Id != f.Id)).DistinctBy(f => f.Id).ToList();
        var readSchema = extra.Count == 0 ? projection : new IcebergSchema(projection.SchemaId, projection.Columns.Concat(extra));
        var target = ArrowSchemaMapping.ToArrow(projection);
        long offset = 0;
        await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(task.File.FilePath), readSchema, cancellationToken: cancellationToken))
        {
            RecordBatch? kept;
            using (batch)
            {
                var keep = new bool[batch.Length];
                for (int i = 0; i < keep.Length; i++)
                    keep[i] = !positions.Contains(offset + i);
                foreach (var delete in equality)
                {
                    var columns = delete.Fields.Select(f => batch.Column(readSchema.Columns.First(c => c.Id == f.Id).Name)).ToArray();
                    using var keys = new EqualityKeys(columns, delete.Fields.Select(f => f.Name).ToArray());
                    for (int i = 0; i < keep.Length; i++)
                        if (keep[i] && delete.Contains(keys, i)) keep[i] = false;
                }
                offset += batch.Length;
                kept = ArrowRowSelection.Keep(batch, keep);
            }
            if (kept is null) continue;
            yield return extra.Count == 0 ? kept
                : new RecordBatch(target, Enumerable.Range(0, target.FieldsList.Count).Select(kept.Column), kept.Length);
        }
    }

    private static async Task<HashSet<long>> DeletedPositionsAsync(Table table, FileScanTask task, CancellationToken ct)
    {
        var positions = new HashSet<long>();
        var path = Encoding.UTF8.GetBytes(task.File.FilePath);
        foreach (var delete in task.DeleteFiles.Where(d => d.Content == FileContent.PositionDeletes))
        {
            await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(delete.FilePath), PositionDeleteSchema, cancellationToken: ct))
            {
                using (batch)
                {
                    var files = (StringArray)batch.Column(0);
                    var pos = (Int64Array)batch.Column(1);
                    for (int i = 0; i < batch.Length; i++)
                        if (files.GetBytes(i).SequenceEqual(path))
                            positions.Add(pos.Values[i]);
                }
            }
        }
        return positions;
    }
}
