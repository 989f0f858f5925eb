using System.Globalization;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Sorting;

/// <summary>
/// The order a sort rewrite writes rows in: a sort order (its fields in turn, each a transform of a column with a
/// direction and a null order) or a z-order on columns (their order-preserving encodings' bits interleaved, so rows close
/// in every column land close together). Written as Iceberg's and Spark's <c>rewrite_data_files</c> take it:
/// <c>id DESC NULLS LAST, bucket(16, name), days(ts)</c> or <c>zorder(a, b)</c>.
/// </summary>
public sealed class RowOrder
{
    private RowOrder(SortOrder? sortOrder, IReadOnlyList<int> zOrder)
    {
        SortOrder = sortOrder;
        ZOrderIds = zOrder;
    }

    /// <summary>The sort order of a linear sort; null for a z-order.</summary>
    public SortOrder? SortOrder { get; }

    /// <summary>The columns (field ids) of a z-order; empty for a linear sort.</summary>
    public IReadOnlyList<int> ZOrderIds { get; }

    public bool IsZOrder => SortOrder is null;

    public static RowOrder Of(SortOrder order) => order.IsUnsorted
        ? throw new ArgumentException("An unsorted order has no fields to sort by.")
        : new(order, []);

    public static RowOrder ZOrder(IReadOnlyList<int> fieldIds) => fieldIds.Count > 0
        ? new(null, fieldIds.ToArray())
        : throw new ArgumentException("A z-order needs at least one column.");

    /// <summary>Parses <c>zorder(a, b)</c> or a list of sort terms (<c>column</c>, <c>identity(c)</c>, <c>bucket(N, c)</c>,
    /// <c>truncate(c, W)</c>, <c>year(s)(c)</c>, <c>month(s)(c)</c>, <c>day(s)(c)</c>, <c>hour(s)(c)</c>, each optionally
    /// followed by <c>ASC</c>|<c>DESC</c> and <c>NULLS FIRST</c>|<c>NULLS LAST</c>; ascending puts nulls first, descending
    /// last, as Iceberg does) against <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentException">The text is not an order of this schema; the message names the offending part.</exception>
    public static RowOrder Parse(string text, Schema schema)
    {
        var s = text.Trim();
        if (s.Length == 0) throw new ArgumentException("The sort order is empty; write e.g. 'id DESC NULLS LAST, name' or 'zorder(a, b)'.");
        if (Call(s) is ("zorder", var args))
        {
            var ids = args.Select(a => Column(a, schema, text).Id).ToList();
            if (ids.Distinct().Count() != ids.Count) throw new ArgumentException($"Sort order '{text}' names a column twice in its z-order.");
            return ZOrder(ids);
        }
        var fields = new List<SortField>();
        foreach (var part in Split(s, text))
        {
            var words = part.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            SortDirection? direction = null;
            NullOrder? nulls = null;
            if (words.Count >= 2 && words[^2].Equals("NULLS", StringComparison.OrdinalIgnoreCase))
            {
                nulls = words[^1].ToUpperInvariant() switch
                {
                    "FIRST" => NullOrder.NullsFirst,
                    "LAST" => NullOrder.NullsLast,
                    _ => throw new ArgumentException($"Sort order '{text}': '{words[^2]} {words[^1]}' must be NULLS FIRST or NULLS LAST."),
                };
                words.RemoveRange(words.Count - 2, 2);
            }
            if (words.Count >= 2 && words[^1].ToUpperInvariant() is "ASC" or "DESC")
            {
                direction = words[^1].Equals("ASC", StringComparison.OrdinalIgnoreCase) ? SortDirection.Asc : SortDirection.Desc;
                words.RemoveAt(words.Count - 1);
            }
            var term = string.Join(' ', words);
            if (term.Length == 0) throw new ArgumentException($"Sort order '{text}' has a term without a column: '{part}'.");
            var (transform, column) = Term(term, schema, text);
            if (!transform.CanTransform(column.Type))
                throw new ArgumentException($"Sort order '{text}': {transform} cannot apply to column '{column.Name}' of type {column.Type}.");
            var d = direction ?? SortDirection.Asc;
            fields.Add(new SortField(column.Id, transform, d, nulls ?? (d == SortDirection.Asc ? NullOrder.NullsFirst : NullOrder.NullsLast)));
        }
        return new(new SortOrder(1, fields), []);
    }

    /// <summary>The order as <see cref="Parse"/> reads it, with the columns' names in <paramref name="schema"/>.</summary>
    public string ToString(Schema schema)
    {
        string Name(int id) => schema.FindColumnName(id) ?? id.ToString(CultureInfo.InvariantCulture);
        if (SortOrder is null) return $"zorder({string.Join(", ", ZOrderIds.Select(Name))})";
        return string.Join(", ", SortOrder.Fields.Select(f =>
        {
            var column = Name(f.SourceId);
            var term = f.Transform.Kind switch
            {
                TransformKind.Identity => column,
                TransformKind.Bucket => $"bucket({f.Transform.Parameter}, {column})",
                TransformKind.Truncate => $"truncate({column}, {f.Transform.Parameter})",
                _ => $"{f.Transform}({column})",
            };
            return $"{term} {(f.Direction == SortDirection.Asc ? "ASC" : "DESC")} {(f.NullOrder == NullOrder.NullsFirst ? "NULLS FIRST" : "NULLS LAST")}";
        }));
    }

    private static (Transform, NestedField) Term(string term, Schema schema, string text)
    {
        if (Call(term) is not var (name, args))
            return (Transform.Identity, Column(term, schema, text));
        int Width(string arg) => int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"Sort order '{text}': '{arg}' in {term} must be a positive whole number.");
        switch (name, args.Count)
        {
            case ("identity", 1): return (Transform.Identity, Column(args[0], schema, text));
            case ("year" or "years", 1): return (Transform.Year, Column(args[0], schema, text));
            case ("month" or "months", 1): return (Transform.Month, Column(args[0], schema, text));
            case ("day" or "days" or "date", 1): return (Transform.Day, Column(args[0], schema, text));
            case ("hour" or "hours" or "date_hour", 1): return (Transform.Hour, Column(args[0], schema, text));
            case ("bucket", 2): return (Transform.Bucket(Width(args[0])), Column(args[1], schema, text));
            // Spark accepts both truncate(column, width) and truncate(width, column).
            case ("truncate", 2) when char.IsAsciiDigit(args[0][0]): return (Transform.Truncate(Width(args[0])), Column(args[1], schema, text));
            case ("truncate", 2): return (Transform.Truncate(Width(args[1])), Column(args[0], schema, text));
            default:
                throw new ArgumentException($"Sort order '{text}': '{term}' is not a sort term; valid: column, identity(c), bucket(N, c), truncate(c, W), years(c), months(c), days(c), hours(c), or zorder(a, b, ...) alone.");
        }
    }

    private static NestedField Column(string name, Schema schema, string text)
    {
        var n = name.Trim();
        if (n.Length >= 2 && (n[0], n[^1]) is ('"', '"') or ('`', '`')) n = n[1..^1];
        var field = schema.FindField(n) ?? throw new ArgumentException(
            $"Sort order '{text}' names column '{n}', which the table does not have; columns: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");
        if (field.Type is not PrimitiveType)
            throw new ArgumentException($"Sort order '{text}': column '{n}' is a {field.Type}; only columns of primitive types can be sorted by.");
        for (var parent = schema.ParentId(field.Id); parent is { } p; parent = schema.ParentId(p))
            if (schema.Field(p).Type is not StructType)
                throw new ArgumentException($"Sort order '{text}': column '{n}' is inside a list or map; a row has no single value of it to sort by.");
        return field;
    }

    /// <summary><c>name(a, b)</c> as the lower-cased name and its arguments; null when the text is not a call.</summary>
    private static (string Name, List<string> Args)? Call(string text)
    {
        int open = text.IndexOf('(', StringComparison.Ordinal);
        if (open <= 0 || text[^1] != ')' || text[0] is '"' or '`') return null;
        var name = text[..open].Trim();
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) return null;
        var args = text[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries).ToList();
        return args.Any(a => a.Length == 0) ? throw new ArgumentException($"'{text}' has an empty argument.") : (name.ToLowerInvariant(), args);
    }

    /// <summary>The comma-separated terms, commas inside parentheses kept.</summary>
    private static List<string> Split(string s, string text)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '(') depth++;
            else if (s[i] == ')' && --depth < 0) break;
            else if (s[i] == ',' && depth == 0)
            {
                parts.Add(s[start..i].Trim());
                start = i + 1;
            }
        }
        if (depth != 0) throw new ArgumentException($"Sort order '{text}' has unbalanced parentheses.");
        parts.Add(s[start..].Trim());
        return parts.Any(p => p.Length == 0) ? throw new ArgumentException($"Sort order '{text}' has an empty term.") : parts;
    }
}
