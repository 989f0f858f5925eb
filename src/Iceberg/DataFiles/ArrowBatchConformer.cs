using Apache.Arrow;
using Apache.Arrow.Types;
using ArrowSchema = Apache.Arrow.Schema;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Re-labels an incoming batch with the data file's Arrow schema (field ids, canonical child names such as a list's
/// <c>element</c>) without copying a buffer, after checking that every column has the layout the schema needs.
/// </summary>
internal static class ArrowBatchConformer
{
    public static RecordBatch Conform(RecordBatch batch, ArrowSchema target)
    {
        var arrays = new IArrowArray[target.FieldsList.Count];
        var batchFields = batch.Schema.FieldsList;
        if (batchFields.Count != arrays.Length || !batchFields.Select(f => f.Name).SequenceEqual(target.FieldsList.Select(f => f.Name)))
        {
            var missing = target.FieldsList.Select(f => f.Name).Except(batchFields.Select(f => f.Name)).ToList();
            var extra = batchFields.Select(f => f.Name).Except(target.FieldsList.Select(f => f.Name)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new ArgumentException(
                    $"The batch's columns ({string.Join(", ", batchFields.Select(f => f.Name))}) do not match the table schema's " +
                    $"({string.Join(", ", target.FieldsList.Select(f => f.Name))})" +
                    (missing.Count > 0 ? $"; missing: {string.Join(", ", missing)}" : "") +
                    (extra.Count > 0 ? $"; not in the schema: {string.Join(", ", extra)}" : "") + ".");
        }
        for (int i = 0; i < arrays.Length; i++)
        {
            var field = target.FieldsList[i];
            int index = batch.Schema.GetFieldIndex(field.Name);
            var data = batch.Column(index).Data;
            arrays[i] = ArrowArrayFactory.BuildArray(Retype(data, field, field.Name, ancestors: null));
        }
        return new RecordBatch(target, arrays, batch.Length);
    }

    /// <param name="ancestors">Which slots of <paramref name="data"/> sit under non-null structs, lists and maps; null for a column.</param>
    private static ArrayData Retype(ArrayData data, Field field, string path, AncestorSlots? ancestors)
    {
        var target = field.DataType;
        // A required field may hold anything under a null parent (no reader sees it there), so only the nulls a
        // reader would see count.
        if (!field.IsNullable && data.NullCount != 0 && VisibleNulls(data, ancestors) is var nulls and > 0)
            throw new ArgumentException($"Column '{path}' is required but the batch holds {nulls} null(s) in it" +
                (ancestors is null ? "." : " where its parents are not null."));
        // The Parquet writer refuses any null in a non-nullable array; the hidden ones become the placeholder values
        // beneath them, which the parent's definition level tells readers to skip.
        var buffers = data.Buffers;
        int nullCount = data.NullCount;
        if (!field.IsNullable && nullCount != 0)
        {
            buffers = [ArrowBuffer.Empty, .. buffers.AsSpan(1)];
            nullCount = 0;
        }
        if (!Compatible(data.DataType, target))
            throw new ArgumentException(
                $"Column '{path}' has Arrow type {Describe(data.DataType)} in the batch; the table schema needs {Describe(target)}.");
        ArrayData[]? children = null;
        switch (target)
        {
            case StructType s:
                var sourceFields = ((StructType)data.DataType).Fields;
                if (sourceFields.Count != s.Fields.Count)
                    throw new ArgumentException($"Struct column '{path}' has {sourceFields.Count} fields in the batch; the table schema has {s.Fields.Count} ({string.Join(", ", s.Fields.Select(f => f.Name))}).");
                children = new ArrayData[s.Fields.Count];
                for (int c = 0; c < children.Length; c++)
                {
                    if (sourceFields[c].Name != s.Fields[c].Name)
                        throw new ArgumentException($"Struct column '{path}' has field '{sourceFields[c].Name}' where the table schema has '{s.Fields[c].Name}'.");
                    children[c] = Retype(data.Children[c], s.Fields[c], path + "." + s.Fields[c].Name, new AncestorSlots(data, ancestors, ThroughOffsets: false));
                }
                break;
            case MapType m:
                // A map's child is its entries struct (key, value).
                var entries = data.Children[0];
                var entriesField = new Field("entries", new StructType([m.KeyField, m.ValueField]), false);
                var entrySlots = new AncestorSlots(entries, new AncestorSlots(data, ancestors, ThroughOffsets: true), ThroughOffsets: false);
                var keyValue = new[]
                {
                    Retype(entries.Children[0], m.KeyField, path + ".key", entrySlots),
                    Retype(entries.Children[1], m.ValueField, path + ".value", entrySlots),
                };
                children = [new ArrayData(entriesField.DataType, entries.Length, entries.NullCount, entries.Offset, entries.Buffers, keyValue)];
                break;
            case ListType l:
                children = [Retype(data.Children[0], l.ValueField, path + ".element", new AncestorSlots(data, ancestors, ThroughOffsets: true))];
                break;
        }
        return new ArrayData(target, data.Length, nullCount, data.Offset, buffers, children ?? data.Children);
    }

    private static int VisibleNulls(ArrayData data, AncestorSlots? ancestors)
    {
        if (ancestors is null) return data.NullCount;
        int nulls = 0;
        for (int i = 0; i < data.Length; i++)
            if (!IsValid(data, i) && ancestors.Visible(i)) nulls++;
        return nulls;
    }

    private static bool IsValid(ArrayData data, int index) =>
        data.Buffers[0].IsEmpty || BitUtility.GetBit(data.Buffers[0].Span, data.Offset + index);

    /// <summary>
    /// Maps a child's slot to its parent's: a struct's children line up with it (shifted by its offset), a list's or
    /// map's elements belong to the slot whose offsets enclose them. Only consulted on the error path.
    /// </summary>
    private sealed record AncestorSlots(ArrayData Parent, AncestorSlots? Outer, bool ThroughOffsets)
    {
        public bool Visible(int childIndex)
        {
            int slot = ThroughOffsets ? SlotOf(childIndex) : childIndex - Parent.Offset;
            return slot >= 0 && slot < Parent.Length && IsValid(Parent, slot) && (Outer is null || Outer.Visible(slot));
        }

        private int SlotOf(int element)
        {
            var offsets = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(Parent.Buffers[1].Span).Slice(Parent.Offset, Parent.Length + 1);
            int low = 0, high = Parent.Length - 1;
            while (low <= high)
            {
                int mid = (low + high) >>> 1;
                if (element < offsets[mid]) high = mid - 1;
                else if (element >= offsets[mid + 1]) low = mid + 1;
                else return mid;
            }
            return -1;
        }
    }

    private static bool Compatible(IArrowType source, IArrowType target) => (source, target) switch
    {
        (TimestampType s, TimestampType t) => s.Unit == t.Unit,
        (Time64Type s, Time64Type t) => s.Unit == t.Unit,
        (Decimal128Type s, Decimal128Type t) => s.Precision == t.Precision && s.Scale == t.Scale,
        (FixedSizeBinaryType s, FixedSizeBinaryType t) => s.ByteWidth == t.ByteWidth,
        (MapType, MapType) => true,
        (ListType, ListType) => source is not MapType && target is not MapType,
        (StructType, StructType) => true,
        _ => source.TypeId == target.TypeId && source.GetType() == target.GetType(),
    };

    private static string Describe(IArrowType type) => type switch
    {
        TimestampType t => $"timestamp[{t.Unit}{(string.IsNullOrEmpty(t.Timezone) ? "" : ", " + t.Timezone)}]",
        Time64Type t => $"time64[{t.Unit}]",
        Decimal128Type d => $"decimal128({d.Precision}, {d.Scale})",
        FixedSizeBinaryType f => $"fixed_size_binary[{f.ByteWidth}]",
        _ => type.Name,
    };
}
