using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPlane.Iceberg.Types;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Tests.Readers;

/// <summary>How a reader's documented type mappings show in the values it returns.</summary>
[Flags]
public enum ReaderMappings
{
    None = 0,
    /// <summary>Decimals as binary floating point (JavaScript numbers; Parquet.Net's System.Decimal past 28 digits): equal to 15 significant digits.</summary>
    DecimalsAsDoubles = 1,
    /// <summary>Dates and timestamps as JavaScript Dates: milliseconds, so timestamps lose their microseconds.</summary>
    JsDates = 2,
    /// <summary>Binary columns decoded as UTF-8 text (hyparquet's default, which icebird keeps).</summary>
    BinaryAsText = 4,
}

/// <summary>Holds a reader's rows, in the canonical form of parquet-readers/canonical.mjs, against the rows written.</summary>
public static class CanonicalRows
{
    public static void AssertSame(string reader, IcebergSchema schema, IReadOnlyList<JsonElement> expected, IReadOnlyList<JsonElement> actual,
        ReaderMappings mappings = ReaderMappings.None)
    {
        Assert.True(expected.Count == actual.Count, $"{reader}: {actual.Count} rows, {expected.Count} written");
        var sorted = actual.OrderBy(r => long.Parse(Text(Field(r, "id")), CultureInfo.InvariantCulture)).ToList();
        var problems = new List<string>();
        for (int row = 0; row < expected.Count; row++)
            foreach (var column in schema.Columns)
                Compare(column.Type, Field(expected[row], column.Name), Field(sorted[row], column.Name), $"row {row + 1} {column.Name}", mappings, problems);
        Assert.True(problems.Count == 0, $"{reader} returned other values than were written:\n{string.Join('\n', problems.Take(40))}");
    }

    /// <summary>A member of an object row; a missing one is null (some readers leave null structs out).</summary>
    private static JsonElement? Field(JsonElement row, string name) =>
        row.ValueKind == JsonValueKind.Object && row.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string Text(JsonElement? value) => value is not { } v ? "null" : v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();

    private static void Compare(IcebergType type, JsonElement? expected, JsonElement? actual, string path, ReaderMappings mappings, List<string> problems)
    {
        if (expected is null || actual is null)
        {
            if (expected is not null || actual is not null)
                problems.Add($"{path}: {Text(actual)}, written {Text(expected)}");
            return;
        }
        var e = expected.Value;
        var a = actual.Value;
        bool same = type switch
        {
            StructType s => CompareStruct(s, e, a, path, mappings, problems),
            ListType l => CompareList(l, e, a, path, mappings, problems),
            MapType m => CompareMap(m, e, a, path, mappings, problems),
            DecimalType => a.ValueKind == JsonValueKind.Number
                ? mappings.HasFlag(ReaderMappings.DecimalsAsDoubles) && Close(a.GetDouble(), double.Parse(e.GetString()!, CultureInfo.InvariantCulture))
                : Text(a) == e.GetString(),
            _ => type.TypeId switch
            {
                TypeId.Boolean => a.ValueKind is JsonValueKind.True or JsonValueKind.False && a.GetBoolean() == e.GetBoolean(),
                TypeId.Float => (float)Number(a) is var f && (f.Equals((float)Number(e))),
                TypeId.Double => Number(a).Equals(Number(e)),
                TypeId.Date => IsJsDate(a, mappings, out long days) ? days == long.Parse(e.GetString()!, CultureInfo.InvariantCulture) * 86_400_000 : Text(a) == e.GetString(),
                TypeId.Timestamp or TypeId.TimestampTz => IsJsDate(a, mappings, out long ms)
                    ? ms == FloorMillis(long.Parse(e.GetString()!, CultureInfo.InvariantCulture))
                    : Text(a) == e.GetString(),
                TypeId.Uuid => Text(a).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() == e.GetString(),
                TypeId.Binary when mappings.HasFlag(ReaderMappings.BinaryAsText) => Text(a) == Encoding.UTF8.GetString(Convert.FromHexString(e.GetString()!)),
                _ => Text(a) == e.GetString(),
            },
        };
        if (!same && type is PrimitiveType)
            problems.Add($"{path}: {Text(a)}, written {Text(e)}");
    }

    private static long FloorMillis(long micros) => micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);

    private static bool Close(double a, double e) => a == e || Math.Abs(a - e) <= 1e-15 * Math.Abs(e);

    private static double Number(JsonElement v) =>
        v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.Parse(v.GetString()!, CultureInfo.InvariantCulture);

    private static bool IsJsDate(JsonElement v, ReaderMappings mappings, out long ms)
    {
        ms = 0;
        if (!mappings.HasFlag(ReaderMappings.JsDates) || v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("ms", out var n))
            return false;
        ms = n.GetInt64();
        return true;
    }

    private static bool CompareStruct(StructType type, JsonElement e, JsonElement a, string path, ReaderMappings mappings, List<string> problems)
    {
        if (a.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{path}: {Text(a)}, written {Text(e)}");
            return false;
        }
        foreach (var field in type.Fields)
            Compare(field.Type, Field(e, field.Name), Field(a, field.Name), $"{path}.{field.Name}", mappings, problems);
        return true;
    }

    private static bool CompareList(ListType type, JsonElement e, JsonElement a, string path, ReaderMappings mappings, List<string> problems)
    {
        if (a.ValueKind != JsonValueKind.Array || a.GetArrayLength() != e.GetArrayLength())
        {
            problems.Add($"{path}: {Text(a)}, written {Text(e)}");
            return false;
        }
        for (int i = 0; i < e.GetArrayLength(); i++)
            Compare(type.ElementType, Element(e[i]), Element(a[i]), $"{path}[{i}]", mappings, problems);
        return true;
    }

    /// <summary>A map as an object, or as a list of key/value entries (polars, Arrow's own layout).</summary>
    private static bool CompareMap(MapType type, JsonElement e, JsonElement a, string path, ReaderMappings mappings, List<string> problems)
    {
        var entries = a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().ToDictionary(x => Text(x.GetProperty("key")), x => Element(x.GetProperty("value")))
            : a.ValueKind == JsonValueKind.Object ? a.EnumerateObject().ToDictionary(p => p.Name, p => Element(p.Value)) : null;
        var want = e.EnumerateObject().ToDictionary(p => p.Name, p => Element(p.Value));
        if (entries is null || !entries.Keys.Order(StringComparer.Ordinal).SequenceEqual(want.Keys.Order(StringComparer.Ordinal)))
        {
            problems.Add($"{path}: {Text(a)}, written {Text(e)}");
            return false;
        }
        foreach (var (key, value) in want)
            Compare(type.ValueType, value, entries[key], $"{path}[{key}]", mappings, problems);
        return true;
    }

    private static JsonElement? Element(JsonElement v) => v.ValueKind == JsonValueKind.Null ? null : v;
}
