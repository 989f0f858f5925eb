using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Catalog.Catalogs;

/// <summary>
/// The command line's compact table definitions: columns as <c>id:long!,data:string,price:decimal(9,2)</c>
/// (<c>!</c> = required; ids 1..n in order) and partitioning as <c>day(ts),bucket(16,id),truncate(4,data),region</c>
/// (a bare column is identity). A schema may also be given as Iceberg schema JSON.
/// </summary>
public static class TableDefinition
{
    public static Schema ParseSchema(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('{')) return Schema.FromJson(trimmed);
        var fields = new List<NestedField>();
        foreach (var column in SplitTopLevel(trimmed))
        {
            var colon = column.IndexOf(':');
            if (colon <= 0) throw new ArgumentException($"Column '{column}' must be name:type (e.g. id:long!, data:string).");
            var name = column[..colon].Trim();
            var type = column[(colon + 1)..].Trim();
            var required = type.EndsWith('!');
            if (required) type = type[..^1];
            fields.Add(new NestedField(fields.Count + 1, name, required, PrimitiveType.Parse(type)));
        }
        if (fields.Count == 0) throw new ArgumentException("A table needs at least one column.");
        return new Schema(0, fields);
    }

    public static PartitionSpec ParsePartitionSpec(Schema schema, string? text)
    {
        var builder = PartitionSpec.BuilderFor(schema);
        if (string.IsNullOrWhiteSpace(text)) return builder.Build();
        foreach (var item in SplitTopLevel(text))
        {
            var open = item.IndexOf('(');
            if (open < 0)
            {
                builder.Identity(item.Trim());
                continue;
            }
            if (!item.EndsWith(')')) throw new ArgumentException($"Partition field '{item}' must look like day(ts), bucket(16,id) or a column name.");
            var name = item[..open].Trim().ToLowerInvariant();
            var args = item[(open + 1)..^1].Split(',').Select(a => a.Trim()).ToArray();
            switch (name, args.Length)
            {
                case ("identity", 1): builder.Identity(args[0]); break;
                case ("year", 1): builder.Year(args[0]); break;
                case ("month", 1): builder.Month(args[0]); break;
                case ("day", 1): builder.Day(args[0]); break;
                case ("hour", 1): builder.Hour(args[0]); break;
                case ("void", 1): builder.Void(args[0]); break;
                case ("bucket", 2): builder.Bucket(args[1], Width(args[0], item)); break;
                case ("truncate", 2): builder.Truncate(args[1], Width(args[0], item)); break;
                default:
                    throw new ArgumentException($"Unknown partition transform '{item}'; valid: identity(c), year(c), month(c), day(c), hour(c), bucket(N,c), truncate(W,c), void(c).");
            }
        }
        return builder.Build();
    }

    private static int Width(string text, string item) =>
        int.TryParse(text, out var n) && n > 0 ? n : throw new ArgumentException($"'{text}' in '{item}' must be a positive integer.");

    /// <summary>Splits on commas that are not inside parentheses, so decimal(9,2) and bucket(16,id) stay whole.</summary>
    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                parts.Add(text[start..i].Trim());
                start = i + 1;
            }
        }
        parts.Add(text[start..].Trim());
        return parts.Where(p => p.Length > 0).ToList();
    }
}
