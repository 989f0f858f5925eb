using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Memory;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Types;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// The rows of the equality delete files that share one set of equality columns, held as Arrow columns and indexed
/// by an open-addressing hash table of row numbers: a data row is looked up by hashing and comparing its typed values
/// (<see cref="EqualityKeys"/>), with nothing allocated per row.
/// </summary>
internal sealed class EqualityDeleteSet : IDisposable
{
    private readonly RecordBatch? _rows;
    private readonly EqualityKeys _keys;
    private readonly int[] _slots; // delete row + 1; 0 when empty
    private readonly int _mask;

    private EqualityDeleteSet(IReadOnlyList<NestedField> fields, RecordBatch? rows)
    {
        Fields = fields;
        _rows = rows;
        var columns = Enumerable.Range(0, fields.Count).Select(c => rows?.Column(c) ?? NullArrays.Of(ArrowSchemaMapping.ToArrowType(fields[c].Type), 0)).ToArray();
        _keys = new EqualityKeys(columns, fields.Select(f => f.Name).ToArray());
        _slots = new int[Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)_keys.Length * 2))];
        _mask = _slots.Length - 1;
        for (int row = 0; row < _keys.Length; row++)
        {
            int slot = Slot(_keys.Hash(row));
            while (_slots[slot] != 0) slot = (slot + 1) & _mask;
            _slots[slot] = row + 1;
        }
    }

    /// <summary>The equality columns, in the delete files' equality_ids order.</summary>
    public IReadOnlyList<NestedField> Fields { get; }

    /// <summary>Whether a delete row has the same values as row <paramref name="row"/> of <paramref name="probe"/>.</summary>
    public bool Contains(EqualityKeys probe, int row)
    {
        for (int slot = Slot(probe.Hash(row)); _slots[slot] != 0; slot = (slot + 1) & _mask)
            if (_keys.Equal(_slots[slot] - 1, probe, row)) return true;
        return false;
    }

    public void Dispose()
    {
        _keys.Dispose();
        _rows?.Dispose();
    }

    private int Slot(ulong hash) => (int)(hash >> 33) & _mask;

    /// <summary>Reads the equality delete files of a task, one set per distinct list of equality ids.</summary>
    public static async Task<List<EqualityDeleteSet>> ReadAsync(Table table, FileScanTask task, CancellationToken ct)
    {
        var sets = new List<EqualityDeleteSet>();
        try
        {
            var files = task.DeleteFiles.Where(d => d.Content == FileContent.EqualityDeletes)
                .GroupBy(d => string.Join(',', d.EqualityIds ?? throw new InvalidDataException($"Equality delete file {d.FilePath} has no equality_ids.")));
            foreach (var group in files)
                sets.Add(await ReadAsync(table, group.ToList(), ct));
            return sets;
        }
        catch
        {
            foreach (var set in sets) set.Dispose();
            throw;
        }
    }

    private static async Task<EqualityDeleteSet> ReadAsync(Table table, List<DataFile> deleteFiles, CancellationToken ct)
    {
        var first = deleteFiles[0];
        var fields = first.EqualityIds!.Select(id => table.Metadata.Schemas.Select(s => s.FindField(id)).FirstOrDefault(f => f is not null)
            ?? throw new InvalidDataException($"Equality delete file {first.FilePath} names field {id}, which no schema of the table has.")).ToList();
        if (fields.FirstOrDefault(f => f.Type is not PrimitiveType) is { } nested)
            throw new NotSupportedException($"Equality delete file {first.FilePath} deletes by column '{nested.Name}' of type {nested.Type}; only primitive columns can be equality delete columns.");
        var schema = new IcebergSchema(0, fields);
        var batches = new List<RecordBatch>();
        try
        {
            foreach (var file in deleteFiles)
                await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(file.FilePath), schema, cancellationToken: ct))
                    batches.Add(batch);
            return new EqualityDeleteSet(fields, Concatenate(batches));
        }
        finally
        {
            if (batches.Count > 1)
                foreach (var batch in batches) batch.Dispose();
        }
    }

    /// <summary>One batch of every delete row (delete files are small by design); null when there is none.</summary>
    private static RecordBatch? Concatenate(List<RecordBatch> batches)
    {
        if (batches.Count <= 1) return batches.FirstOrDefault();
        var columns = new IArrowArray[batches[0].ColumnCount];
        for (int c = 0; c < columns.Length; c++)
            columns[c] = ArrowArrayConcatenator.Concatenate(batches.Select(b => b.Column(c)).ToList(), MemoryAllocator.Default.Value);
        return new RecordBatch(batches[0].Schema, columns, batches.Sum(b => b.Length));
    }
}
