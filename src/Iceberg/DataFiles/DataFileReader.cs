using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using ParquetSharp.Arrow;
using ParquetSharp.IO;
using ArrowField = Apache.Arrow.Field;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Reads a Parquet data file as Arrow record batches shaped by a (possibly newer) Iceberg schema: columns are found by
/// field id, so a renamed column still reads; a column the file lacks reads as nulls; a column the projection
/// lacks is never read; int/float/decimal columns widened since are widened on read. Batches are streamed; the
/// caller disposes each one.
/// </summary>
public static class DataFileReader
{
    public static async IAsyncEnumerable<RecordBatch> ReadAsync(
        IObjectStore store, string key, IcebergSchema projection, int batchRows = 64 * 1024,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var target = ArrowSchemaMapping.ToArrow(projection);
        // Disposed in reverse: the batch reader, the Parquet reader, then the file whose delegates native code calls
        // (Read, Seek, and Close when the native file is destroyed), then the stream under it.
        await using var stream = await ObjectReadStream.OpenAsync(store, key, cancellationToken);
        using var file = new ManagedRandomAccessFile(stream, leaveOpen: true);
        using var readerProperties = ParquetSharp.ReaderProperties.GetDefaultReaderProperties();
        using var arrowProperties = ArrowReaderProperties.GetDefault();
        arrowProperties.BatchSize = batchRows;
        // Pre-buffering hands column chunk reads to Arrow's IO threads, whose tasks can hold the native file past
        // the reader's disposal: its destructor then calls the managed Close delegate after the GC has collected it
        // (a crash once many files are read in one process). Reads stay on this thread instead; ObjectReadStream
        // reads ahead by itself.
        arrowProperties.PreBuffer = false;
        using var reader = new FileReader(file, readerProperties, arrowProperties);

        var fileFields = reader.SchemaManifest.SchemaFields;
        var fileIndexById = new Dictionary<int, int>();
        for (int i = 0; i < fileFields.Count; i++)
            if (ArrowSchemaMapping.FieldId(fileFields[i].Field) is { } id)
                fileIndexById[id] = i;

        // Top-level file columns to read, in file order (the order Arrow returns them in).
        var wanted = projection.Columns.Where(c => fileIndexById.ContainsKey(c.Id)).Select(c => fileIndexById[c.Id]).Order().ToList();
        if (wanted.Count == 0)
        {
            long rows = reader.ParquetReader.FileMetaData.NumRows;
            for (long done = 0; done < rows; done += batchRows)
            {
                int n = (int)Math.Min(batchRows, rows - done);
                yield return new RecordBatch(target, target.FieldsList.Select(f => NullArrays.Of(f.DataType, n)), n);
            }
            yield break;
        }
        var leaves = new List<int>();
        foreach (var i in wanted)
            CollectLeaves(fileFields[i], leaves);
        var positionInBatch = wanted.Select((fileIndex, position) => (fileIndex, position)).ToDictionary(p => p.fileIndex, p => p.position);

        using var batches = reader.GetRecordBatchReader(columns: leaves.ToArray());
        while (await batches.ReadNextRecordBatchAsync(cancellationToken) is { } batch)
        {
            // The output shares the batch's buffers: whoever consumes it disposes it.
            {
                var arrays = new IArrowArray[target.FieldsList.Count];
                for (int c = 0; c < arrays.Length; c++)
                {
                    var column = projection.Columns[c];
                    arrays[c] = fileIndexById.TryGetValue(column.Id, out var fileIndex)
                        ? Project(batch.Column(positionInBatch[fileIndex]), fileFields[fileIndex].Field, column, target.FieldsList[c])
                        : NullArrays.Of(target.FieldsList[c].DataType, batch.Length);
                }
                yield return new RecordBatch(target, arrays, batch.Length);
            }
        }
    }

    private static void CollectLeaves(SchemaField field, List<int> leaves)
    {
        if (field.Children.Count == 0)
            leaves.Add(field.ColumnIndex);
        foreach (var child in field.Children)
            CollectLeaves(child, leaves);
    }

    /// <summary>Reshapes a column read from the file into the projection's Arrow type, matching nested fields by id.</summary>
    private static IArrowArray Project(IArrowArray array, ArrowField fileField, NestedField expected, ArrowField target)
    {
        var data = array.Data;
        switch (expected.Type)
        {
            case Types.StructType s:
            {
                var fileStruct = (Apache.Arrow.Types.StructType)fileField.DataType;
                var structArray = (StructArray)array;
                var targetStruct = (Apache.Arrow.Types.StructType)target.DataType;
                var children = new IArrowArray[s.Fields.Count];
                for (int c = 0; c < children.Length; c++)
                {
                    int fileChild = fileStruct.Fields.ToList().FindIndex(f => ArrowSchemaMapping.FieldId(f) == s.Fields[c].Id);
                    children[c] = fileChild < 0
                        ? NullArrays.Of(targetStruct.Fields[c].DataType, array.Length + array.Offset)
                        : Project(structArray.Fields[fileChild], fileStruct.Fields[fileChild], s.Fields[c], targetStruct.Fields[c]);
                }
                return new StructArray(target.DataType, array.Length, children, data.Buffers[0], data.NullCount, data.Offset);
            }
            case Types.MapType m:
            {
                var map = (MapArray)array;
                var fileMap = (Apache.Arrow.Types.MapType)fileField.DataType;
                var targetMap = (Apache.Arrow.Types.MapType)target.DataType;
                var keys = Project(map.Keys, fileMap.KeyField, m.KeyField, targetMap.KeyField);
                var values = Project(map.Values, fileMap.ValueField, m.ValueField, targetMap.ValueField);
                var entries = new StructArray(targetMap.KeyValueType, keys.Length, [keys, values], ArrowBuffer.Empty);
                return new MapArray(target.DataType, array.Length, data.Buffers[1], entries, data.Buffers[0], data.NullCount, data.Offset);
            }
            case Types.ListType l:
            {
                var list = (ListArray)array;
                var fileList = (Apache.Arrow.Types.ListType)fileField.DataType;
                var targetList = (Apache.Arrow.Types.ListType)target.DataType;
                var values = Project(list.Values, fileList.ValueField, l.ElementField, targetList.ValueField);
                return new ListArray(target.DataType, array.Length, data.Buffers[1], values, data.Buffers[0], data.NullCount, data.Offset);
            }
            default:
                return Widen(array, target.DataType, expected);
        }
    }

    /// <summary>The spec's allowed promotions (int to long, float to double, decimal precision), otherwise a relabel.</summary>
    private static IArrowArray Widen(IArrowArray array, IArrowType target, NestedField expected)
    {
        switch (array, target)
        {
            case (Int32Array ints, Int64Type):
            {
                var values = new long[ints.Length];
                var source = ints.Values;
                for (int i = 0; i < values.Length; i++) values[i] = source[i];
                return new Int64Array(new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
                    CopyValidity(ints), ints.Length, ints.NullCount, 0);
            }
            case (FloatArray floats, DoubleType):
            {
                var values = new double[floats.Length];
                var source = floats.Values;
                for (int i = 0; i < values.Length; i++) values[i] = source[i];
                return new DoubleArray(new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
                    CopyValidity(floats), floats.Length, floats.NullCount, 0);
            }
        }
        var data = array.Data;
        bool compatible = (data.DataType, target) switch
        {
            (Decimal128Type s, Decimal128Type t) => s.Scale == t.Scale && s.Precision <= t.Precision,
            (TimestampType s, TimestampType t) => s.Unit == t.Unit,
            (FixedSizeBinaryType s, FixedSizeBinaryType t) => s.ByteWidth == t.ByteWidth,
            (LargeStringType or StringViewType, _) or (LargeBinaryType or BinaryViewType, _) => false,
            var (s, t) => s.TypeId == t.TypeId,
        };
        if (!compatible)
            throw new InvalidDataException(
                $"Column '{expected.Name}' (field id {expected.Id}) is {data.DataType.Name} in the data file, which cannot be read as {expected.Type}.");
        return ArrowArrayFactory.BuildArray(new ArrayData(target, data.Length, data.NullCount, data.Offset, data.Buffers, data.Children));
    }

    private static ArrowBuffer CopyValidity(IArrowArray array)
    {
        if (array.NullCount == 0) return ArrowBuffer.Empty;
        var bits = new byte[(array.Length + 7) / 8];
        for (int i = 0; i < array.Length; i++)
            if (array.IsValid(i)) bits[i / 8] |= (byte)(1 << (i % 8));
        return new ArrowBuffer(bits);
    }
}
