using System.Globalization;
using System.Text.RegularExpressions;
using DataPlane.Catalog.Partitioning;
using IcebergSchema = DataPlane.Catalog.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>Partition terms as users write them: <c>day(ts)</c>, <c>hour(ts)</c>, <c>month(ts)</c>, <c>year(ts)</c>, <c>bucket(16, id)</c>, <c>identity(x)</c> or just <c>x</c>.</summary>
internal static partial class PartitionTerms
{
    public static PartitionSpec Build(IcebergSchema schema, IReadOnlyList<string> terms)
    {
        var builder = PartitionSpec.BuilderFor(schema);
        foreach (var term in terms)
        {
            var m = Term().Match(term.Trim());
            if (!m.Success)
                throw new ArgumentException($"Partition term '{term}' is not valid; use day(col), hour(col), month(col), year(col), bucket(N, col), identity(col) or col.");
            string fn = m.Groups["fn"].Success ? m.Groups["fn"].Value.ToLowerInvariant() : "identity";
            string column = m.Groups["col"].Value;
            if (schema.FindField(column) is null)
                throw new ArgumentException($"Partition term '{term}' names column '{column}', which the table does not have; columns: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");
            builder = fn switch
            {
                "identity" => builder.Identity(column),
                "year" => builder.Year(column),
                "month" => builder.Month(column),
                "day" => builder.Day(column),
                "hour" => builder.Hour(column),
                "bucket" when m.Groups["n"].Success => builder.Bucket(column, int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture)),
                _ => throw new ArgumentException($"Partition term '{term}': unknown transform '{fn}'; use day, hour, month, year, bucket(N, col) or identity."),
            };
        }
        return builder.Build();
    }

    [GeneratedRegex(@"^(?:(?<fn>[A-Za-z]+)\(\s*(?:(?<n>\d+)\s*,\s*)?(?<col>[A-Za-z_][A-Za-z0-9_]*)\s*\)|(?<col>[A-Za-z_][A-Za-z0-9_]*))$")]
    private static partial Regex Term();
}
