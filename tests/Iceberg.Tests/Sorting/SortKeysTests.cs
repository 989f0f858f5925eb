using System.Text;
using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Tests.Sorting;

/// <summary>
/// Sort keys order rows as the sort order says (directions, null orders, transforms, the spec's order of floating-point
/// values), z-order keys interleave the columns' bits, and the text of a sort order is read as Spark's
/// <c>rewrite_data_files</c> takes it, with errors naming the offending part.
/// </summary>
public sealed class SortKeysTests
{
    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Optional(1, "i", PrimitiveType.Int),
        NestedField.Optional(2, "s", PrimitiveType.String),
        NestedField.Optional(3, "d", PrimitiveType.Double),
        NestedField.Optional(4, "j", PrimitiveType.Int),
    ]);

    private static RecordBatch Batch(int?[] i, string?[] s, double?[] d, int?[]? j = null) =>
        new(ArrowSchemaMapping.ToArrow(Schema), [ArrowColumns.Ints(i), ArrowColumns.Strings(s), ArrowColumns.Doubles(d), ArrowColumns.Ints(j ?? new int?[i.Length])], i.Length);

    private static int[] Sorted(RecordBatch batch, string order)
    {
        var keys = new SortKeys(RowOrder.Parse(order, Schema), Schema).Compute(batch);
        var rows = Enumerable.Range(0, batch.Length).ToArray();
        System.Array.Sort(rows, (a, b) => keys.Compare(a, b) is var c && c != 0 ? c : a.CompareTo(b));
        return rows;
    }

    private static int Nullable<T>(T? a, T? b, bool nullsFirst, Func<T, T, int> compare) where T : class =>
        (a, b) switch
        {
            (null, null) => 0,
            (null, _) => nullsFirst ? -1 : 1,
            (_, null) => nullsFirst ? 1 : -1,
            _ => compare(a, b),
        };

    [Fact]
    public void Rows_come_in_the_order_of_the_fields_with_their_directions_null_orders_and_transforms()
    {
        var random = new Random(7);
        const int n = 2000;
        string[] words = ["", "a", "ab", "abc", "b", "ba", "a\0", "a\0b", "é", "éa", "日本", "日本語", "\U0001F600", "\U0001F600x", "z"];
        var i = Enumerable.Range(0, n).Select(_ => random.Next(10) == 0 ? (int?)null : random.Next(-50, 50)).ToArray();
        var s = Enumerable.Range(0, n).Select(_ => random.Next(10) == 0 ? null : words[random.Next(words.Length)]).ToArray();
        var d = Enumerable.Range(0, n).Select(_ => random.Next(10) == 0 ? (double?)null : Math.Round(random.NextDouble() * 200 - 100, 1)).ToArray();
        using var batch = Batch(i, s, d);
        static int Utf8(string a, string b) => Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
        static string Prefix(string v, int points) => string.Concat(v.EnumerateRunes().Take(points));

        var rows = Sorted(batch, "s DESC NULLS LAST, d, i DESC NULLS FIRST");
        for (int k = 1; k < n; k++)
        {
            var (a, b) = (rows[k - 1], rows[k]);
            int c = Nullable(s[a], s[b], nullsFirst: false, (x, y) => -Utf8(x, y));
            if (c == 0) c = Nullable(d[a]?.ToString("R", System.Globalization.CultureInfo.InvariantCulture), d[b]?.ToString("R", System.Globalization.CultureInfo.InvariantCulture), nullsFirst: true, (_, _) => d[a]!.Value.CompareTo(d[b]!.Value));
            if (c == 0) c = Nullable(i[a]?.ToString(System.Globalization.CultureInfo.InvariantCulture), i[b]?.ToString(System.Globalization.CultureInfo.InvariantCulture), nullsFirst: true, (_, _) => -i[a]!.Value.CompareTo(i[b]!.Value));
            Assert.True(c <= 0, $"row {a} ({s[a]}, {d[a]}, {i[a]}) came before row {b} ({s[b]}, {d[b]}, {i[b]})");
        }

        rows = Sorted(batch, "truncate(s, 1) NULLS LAST, i DESC");
        for (int k = 1; k < n; k++)
        {
            var (a, b) = (rows[k - 1], rows[k]);
            int c = Nullable(s[a] is null ? null : Prefix(s[a]!, 1), s[b] is null ? null : Prefix(s[b]!, 1), nullsFirst: false, Utf8);
            if (c == 0) c = Nullable(i[a]?.ToString(System.Globalization.CultureInfo.InvariantCulture), i[b]?.ToString(System.Globalization.CultureInfo.InvariantCulture), nullsFirst: false, (_, _) => -i[a]!.Value.CompareTo(i[b]!.Value));
            Assert.True(c <= 0, $"row {a} ({s[a]}, {i[a]}) came before row {b} ({s[b]}, {i[b]})");
        }
    }

    [Fact]
    public void Floating_point_values_sort_in_the_specs_order()
    {
        // .NET's double.NaN has the sign bit set.
        double negativeNaN = BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_0000_0000));
        double positiveNaN = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000);
        double?[] expected = [null, negativeNaN, double.NegativeInfinity, -1.5, -0.0, 0.0, 2.5, double.PositiveInfinity, positiveNaN];
        var shuffled = expected.Reverse().ToArray();
        using var batch = Batch(new int?[shuffled.Length], new string?[shuffled.Length], shuffled);
        var rows = Sorted(batch, "d ASC NULLS FIRST");
        Assert.Equal(expected.Select(v => v is { } x ? BitConverter.DoubleToInt64Bits(x) : (long?)null), rows.Select(r => shuffled[r] is { } x ? BitConverter.DoubleToInt64Bits(x) : (long?)null));
    }

    [Fact]
    public void Z_order_interleaves_the_columns_bits_first_column_first()
    {
        var points = (from x in Enumerable.Range(0, 8) from y in Enumerable.Range(0, 8) select (X: x, Y: y)).Reverse().ToArray();
        using var batch = Batch(points.Select(p => (int?)p.X).ToArray(), new string?[points.Length], new double?[points.Length], points.Select(p => (int?)p.Y).ToArray());
        var rows = Sorted(batch, "zorder(i, j)");
        // An independent interleave of the same 8-byte order-preserving encodings, as text of '0' and '1'.
        var reference = Enumerable.Range(0, points.Length).OrderBy(r => Interleave(OrderedBits(points[r].X), OrderedBits(points[r].Y)), StringComparer.Ordinal).ThenBy(r => r).ToArray();
        Assert.Equal(reference, rows);
        // Close points stay close: the first 16 rows are the 4x4 square at the origin.
        Assert.All(rows.Take(16), r => Assert.True(points[r].X < 4 && points[r].Y < 4, $"({points[r].X}, {points[r].Y}) in the first quarter"));
    }

    private static ulong OrderedBits(int value) => (ulong)((long)value ^ long.MinValue);

    /// <summary>The interleaved bits as a string of '0' and '1', which sorts like the bits.</summary>
    private static string Interleave(ulong x, ulong y)
    {
        var text = new StringBuilder(128);
        for (int b = 63; b >= 0; b--)
            text.Append((x >> b & 1) == 1 ? '1' : '0').Append((y >> b & 1) == 1 ? '1' : '0');
        return text.ToString();
    }

    [Theory]
    [InlineData("i", "i ASC NULLS FIRST")]
    [InlineData("s DESC, i", "s DESC NULLS LAST, i ASC NULLS FIRST")]
    [InlineData(" s desc nulls first ,  bucket(16, i) ", "s DESC NULLS FIRST, bucket(16, i) ASC NULLS FIRST")]
    [InlineData("truncate(s, 3) ASC NULLS LAST", "truncate(s, 3) ASC NULLS LAST")]
    [InlineData("truncate(3, s)", "truncate(s, 3) ASC NULLS FIRST")]
    [InlineData("\"s\", `i` DESC", "s ASC NULLS FIRST, i DESC NULLS LAST")]
    [InlineData("ZORDER(i, s)", "zorder(i, s)")]
    public void A_sort_order_is_read_as_spark_writes_it(string text, string expected) =>
        Assert.Equal(expected, RowOrder.Parse(text, Schema).ToString(Schema));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("x", "'x'")]
    [InlineData("i SIDEWAYS", "'i SIDEWAYS'")]
    [InlineData("i NULLS MIDDLE", "NULLS MIDDLE")]
    [InlineData("i,, s", "empty term")]
    [InlineData("bucket(0, i)", "'0'")]
    [InlineData("days(i)", "day cannot apply to column 'i'")]
    [InlineData("zorder(i, i)", "twice")]
    [InlineData("zorder(i, nope)", "'nope'")]
    [InlineData("frobnicate(i)", "'frobnicate(i)' is not a sort term")]
    [InlineData("(i", "parentheses")]
    public void A_bad_sort_order_is_refused_naming_the_offending_part(string text, string named)
    {
        var e = Assert.Throws<ArgumentException>(() => RowOrder.Parse(text, Schema));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
