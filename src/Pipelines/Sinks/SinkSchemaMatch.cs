using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergListType = DataPlane.Iceberg.Types.ListType;
using IcebergMapType = DataPlane.Iceberg.Types.MapType;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using IcebergStructType = DataPlane.Iceberg.Types.StructType;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// A statement's output against the schema of the table it writes into: every output column must be a column of the
/// table (by name) of the same type or one Iceberg promotes it to (int to long, float to double, a decimal to a wider
/// precision: <see cref="SchemaUpdate.CanPromote"/>), structs field by field in the table's order; every table column
/// must be in the output. <see cref="For"/> refuses anything else with an <see cref="ArgumentException"/> naming the
/// column; <see cref="Apply"/> widens the promoted columns of each batch (the Parquet writer then lays the batch out
/// in the table's order by name). Nullability is the writer's to check: a NULL in a required column fails the write.
/// </summary>
internal sealed class SinkSchemaMatch
{
    private readonly (int Column, IcebergType From, IcebergType To)[] _promotions;
    private readonly ArrowSchema _schema;

    private SinkSchemaMatch((int, IcebergType, IcebergType)[] promotions, ArrowSchema schema)
    {
        _promotions = promotions;
        _schema = schema;
    }

    /// <summary>Nothing to change: the output's types are the table's.</summary>
    public bool IsIdentity => _promotions.Length == 0;

    /// <param name="what">Names the writer and the table in messages, e.g. <c>INSERT INTO events_table (table default.events)</c>.</param>
    /// <param name="table">Null when the target takes the output as it is (a table it creates from it, a folder).</param>
    /// <param name="keys">An updating aggregate's keys: in an existing table, required primitive columns that are not
    /// floating point (Iceberg's identifier fields), and its identifier fields when it has any.</param>
    public static SinkSchemaMatch For(ArrowSchema output, IcebergSchema? table, string what, IReadOnlyList<string>? keys = null)
    {
        if (table is null)
            return new SinkSchemaMatch([], output);
        if (keys is not null)
            CheckKeys(table, what, keys);
        var outputTypes = ArrowSchemaMapping.ToIceberg(output);
        var promotions = new List<(int, IcebergType, IcebergType)>();
        var fields = new List<Field>();
        for (int i = 0; i < output.FieldsList.Count; i++)
        {
            var column = outputTypes.Columns[i];
            var target = table.Columns.FirstOrDefault(c => c.Name == column.Name);
            if (target is null)
            {
                var differentCase = table.Columns.FirstOrDefault(c => string.Equals(c.Name, column.Name, StringComparison.OrdinalIgnoreCase));
                throw new ArgumentException($"{what}: the output column '{column.Name}' is not a column of the table" +
                    (differentCase is not null ? $" (it has '{differentCase.Name}'; names match exactly: AS \"{differentCase.Name}\")" : "") +
                    $"; its columns are {string.Join(", ", table.Columns.Select(c => $"{c.Name} {c.Type}"))}.");
            }
            if (Problem(column.Type, target.Type, column.Name) is { } problem)
                throw new ArgumentException($"{what}: {problem}");
            if (!column.Type.Equals(Strip(target.Type, column.Type)))
            {
                promotions.Add((i, column.Type, target.Type));
                fields.Add(new Field(column.Name, ArrowSchemaMapping.ToArrowType(target.Type), output.FieldsList[i].IsNullable));
            }
            else
                fields.Add(output.FieldsList[i]);
        }
        var missing = table.Columns.Where(c => outputTypes.Columns.All(o => o.Name != c.Name)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{what}: the table's column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(c => $"'{c.Name}' ({c.Type})"))} " +
                $"{(missing.Count > 1 ? "are" : "is")} not in the output; select {(missing.Count > 1 ? "each" : "it")} (NULL::<type> AS {missing[0].Name} for no value).");
        return new SinkSchemaMatch([.. promotions], new ArrowSchema(fields, metadata: null));
    }

    private static void CheckKeys(IcebergSchema table, string what, IReadOnlyList<string> keys)
    {
        foreach (var key in keys)
        {
            // A key that is not a column is refused below, as any output column.
            if (table.Columns.FirstOrDefault(c => c.Name == key) is not { } column)
                continue;
            if (!column.Required || !column.Type.IsPrimitive || column.Type.TypeId is TypeId.Float or TypeId.Double)
                throw new ArgumentException($"{what}: the table's column '{key}' ({(column.Required ? "required" : "optional")} {column.Type}) cannot be a key of an updating aggregate: " +
                    "the keys become the table's identifier fields, which Iceberg requires to be required primitive columns, not float or double; write into a new table (DataPlane creates it with the keys required).");
        }
        var ids = keys.Select(k => table.Columns.FirstOrDefault(c => c.Name == k)?.Id ?? -1).ToHashSet();
        if (table.IdentifierFieldIds.Count > 0 && !table.IdentifierFieldIds.ToHashSet().SetEquals(ids))
            throw new ArgumentException($"{what}: the table's identifier fields are {string.Join(", ", table.IdentifierFieldIds.Select(table.FindColumnName))}, " +
                $"not the statement's GROUP BY keys {string.Join(", ", keys)}: each commit replaces the rows of its keys, so they must identify the table's rows.");
    }

    /// <summary>Why an output value of type <paramref name="output"/> cannot be written as <paramref name="table"/>; null when it can.</summary>
    private static string? Problem(IcebergType output, IcebergType table, string path)
    {
        switch (output, table)
        {
            case (PrimitiveType o, PrimitiveType t):
                return o.Equals(t) || SchemaUpdate.CanPromote(o, t) ? null
                    : $"the output column '{path}' is {o} and the table's is {t}, which {o} does not convert to (Iceberg promotes int to long, float to double and decimal(P,S) to a wider precision); CAST it";
            case (IcebergStructType o, IcebergStructType t):
            {
                if (!o.Fields.Select(f => f.Name).SequenceEqual(t.Fields.Select(f => f.Name)))
                    return $"the output column '{path}' is {Describe(o)} and the table's is {Describe(t)}: a struct needs the table's fields, in its order";
                for (int i = 0; i < o.Fields.Count; i++)
                    if (Problem(o.Fields[i].Type, t.Fields[i].Type, path + "." + o.Fields[i].Name) is { } p)
                        return p;
                return null;
            }
            case (IcebergListType o, IcebergListType t):
                return Problem(o.ElementType, t.ElementType, path + ".element");
            case (IcebergMapType o, IcebergMapType t):
                return Problem(o.KeyType, t.KeyType, path + ".key") ?? Problem(o.ValueType, t.ValueType, path + ".value");
            default:
                return $"the output column '{path}' is {Describe(output)} and the table's is {Describe(table)}";
        }
    }

    private static string Describe(IcebergType type) => type switch
    {
        IcebergStructType s => $"struct<{string.Join(", ", s.Fields.Select(f => $"{f.Name}: {Describe(f.Type)}"))}>",
        IcebergListType l => $"list<{Describe(l.ElementType)}>",
        IcebergMapType m => $"map<{Describe(m.KeyType)}, {Describe(m.ValueType)}>",
        _ => type.ToString()!,
    };

    /// <summary>The table's type with the output's field ids and nullability, so that equality means "same types".</summary>
    private static IcebergType Strip(IcebergType table, IcebergType output) => (table, output) switch
    {
        (IcebergStructType t, IcebergStructType o) when t.Fields.Count == o.Fields.Count =>
            new IcebergStructType(t.Fields.Select((f, i) => o.Fields[i] with { Type = Strip(f.Type, o.Fields[i].Type) })),
        (IcebergListType t, IcebergListType o) => new IcebergListType(o.ElementId, o.ElementRequired, Strip(t.ElementType, o.ElementType)),
        (IcebergMapType t, IcebergMapType o) => new IcebergMapType(o.KeyId, Strip(t.KeyType, o.KeyType), o.ValueId, o.ValueRequired, Strip(t.ValueType, o.ValueType)),
        _ => table,
    };

    /// <summary>The batch with its promoted columns widened; the batch itself when nothing is promoted.</summary>
    public RecordBatch Apply(RecordBatch batch)
    {
        if (_promotions.Length == 0)
            return batch;
        var columns = new IArrowArray[batch.ColumnCount];
        for (int i = 0; i < columns.Length; i++)
            columns[i] = batch.Column(i);
        foreach (var (column, from, to) in _promotions)
            columns[column] = ArrowArrayFactory.BuildArray(Widen(batch.Column(column).Data, from, to));
        return new RecordBatch(_schema, columns, batch.Length);
    }

    /// <summary>A column's data as the wider type: new values for int and float, the same buffers relabelled for decimals, children for nested types.</summary>
    private static ArrayData Widen(ArrayData data, IcebergType from, IcebergType to)
    {
        var type = ArrowSchemaMapping.ToArrowType(to);
        switch (from, to)
        {
            case (PrimitiveType { TypeId: TypeId.Int }, PrimitiveType { TypeId: TypeId.Long }):
                return Widened(data, type, sizeof(long), (source, target) => { var from = Cast<int>(source); var to = Cast<long>(target); for (int i = 0; i < to.Length; i++) to[i] = from[i]; });
            case (PrimitiveType { TypeId: TypeId.Float }, PrimitiveType { TypeId: TypeId.Double }):
                return Widened(data, type, sizeof(double), (source, target) => { var from = Cast<float>(source); var to = Cast<double>(target); for (int i = 0; i < to.Length; i++) to[i] = from[i]; });
            case (PrimitiveType, PrimitiveType):
                // Equal types, or a decimal of a wider precision: the same 16-byte values.
                return new ArrayData(type, data.Length, data.NullCount, data.Offset, data.Buffers, data.Children);
            case (IcebergStructType f, IcebergStructType t):
                return new ArrayData(type, data.Length, data.NullCount, data.Offset, data.Buffers,
                    data.Children.Select((child, i) => Widen(child, f.Fields[i].Type, t.Fields[i].Type)));
            case (IcebergListType f, IcebergListType t):
                return new ArrayData(type, data.Length, data.NullCount, data.Offset, data.Buffers, [Widen(data.Children[0], f.ElementType, t.ElementType)]);
            case (IcebergMapType f, IcebergMapType t):
            {
                var entries = data.Children[0];
                var entriesType = ((Apache.Arrow.Types.MapType)type).KeyValueType;
                var keyValues = new ArrayData(entriesType, entries.Length, entries.NullCount, entries.Offset, entries.Buffers,
                    [Widen(entries.Children[0], f.KeyType, t.KeyType), Widen(entries.Children[1], f.ValueType, t.ValueType)]);
                return new ArrayData(type, data.Length, data.NullCount, data.Offset, data.Buffers, [keyValues]);
            }
            default:
                throw new InvalidOperationException($"{from} does not widen to {to}.");
        }
    }

    private delegate void Widening(ReadOnlySpan<byte> source, Span<byte> target);

    /// <summary>New values for every slot (the validity buffer and offset stay as they are).</summary>
    private static ArrayData Widened(ArrayData data, IArrowType type, int width, Widening widen)
    {
        int slots = data.Offset + data.Length;
        var bytes = new byte[slots * width];
        widen(data.Buffers[1].Span, bytes);
        return new ArrayData(type, data.Length, data.NullCount, data.Offset, [data.Buffers[0], new ArrowBuffer(bytes)]);
    }

    private static Span<T> Cast<T>(Span<byte> bytes) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes);
    private static ReadOnlySpan<T> Cast<T>(ReadOnlySpan<byte> bytes) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes);
}
