using Apache.Arrow;

namespace DataPlane.Pipelines.Lookups;

/// <summary>A lookup table's batches as the one batch a lookup join indexes, with the columns it was compiled with.</summary>
internal static class LookupRows
{
    /// <summary>An empty table: a lookup join matches nothing (and gives NULLs in a LEFT join).</summary>
    public static readonly RecordBatch Empty = new(new Schema([], null), [], 0);

    /// <summary>
    /// The <paramref name="batches"/>' columns named as in <paramref name="schema"/>, concatenated (copied: the caller
    /// disposes the batches). A column the table no longer has, or whose type changed, is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static RecordBatch Combine(string table, Schema schema, IReadOnlyList<RecordBatch> batches)
    {
        var parts = batches.Where(b => b.Length > 0).ToList();
        if (parts.Count == 0)
            return Empty;
        var columns = new IArrowArray[schema.FieldsList.Count];
        for (int c = 0; c < columns.Length; c++)
        {
            var field = schema.FieldsList[c];
            var arrays = new List<IArrowArray>(parts.Count);
            foreach (var part in parts)
            {
                int index = part.Schema.GetFieldIndex(field.Name);
                if (index < 0)
                    throw new InvalidDataException($"Table '{table}' no longer has the column '{field.Name}' its lookup join was compiled with; recreate the pipeline to compile it against the table's columns now.");
                var array = part.Column(index);
                if (array.Data.DataType.ToString() != field.DataType.ToString())
                    throw new InvalidDataException($"Table '{table}''s column '{field.Name}' is {array.Data.DataType} now, where its lookup join was compiled with {field.DataType}; recreate the pipeline.");
                arrays.Add(array);
            }
            // one array alone would come back as it is; an empty slice beside it makes the concatenation copy it
            if (arrays.Count == 1)
                arrays.Add(ArrowArrayFactory.Slice(arrays[0], 0, 0));
            columns[c] = ArrowArrayConcatenator.Concatenate(arrays);
        }
        return new RecordBatch(schema, columns, parts.Sum(p => p.Length));
    }
}
