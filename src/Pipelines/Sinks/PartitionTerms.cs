using System.Globalization;
using System.Text.RegularExpressions;
using DataPlane.Iceberg.Partitioning;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// Partition terms as users write them: <c>day(ts)</c>, <c>hour(ts)</c>, <c>month(ts)</c>, <c>year(ts)</c>,
/// <c>bucket(16, id)</c>, <c>truncate(4, name)</c>, <c>identity(x)</c> or just <c>x</c>. Their syntax is checked when the
/// sink is created (<see cref="Check"/>); the columns they name, when a pipeline binds the sink to its output (<see cref="Build"/>).
/// </summary>
internal static partial class PartitionTerms
{
    /// <summary>Terms in a sink: more partition columns than any table needs, and it bounds the work of building the spec.</summary>
    public const int MaxTerms = 32;

    private const string Valid = "use day(col), hour(col), month(col), year(col), bucket(N, col), truncate(N, col), identity(col) or col";

    private readonly record struct Term(string Text, string Transform, int? Argument, string Column);

    /// <summary>Checks the terms' syntax; an <see cref="ArgumentException"/> names the first one that is not a term.</summary>
    public static void Check(IReadOnlyList<string> terms) => Parse(terms);

    /// <summary>The partition spec of <paramref name="terms"/> over <paramref name="schema"/>; an <see cref="ArgumentException"/>
    /// names a term whose column the schema lacks or whose transform does not apply to the column's type.</summary>
    public static PartitionSpec Build(IcebergSchema schema, IReadOnlyList<string> terms)
    {
        var builder = PartitionSpec.BuilderFor(schema);
        foreach (var term in Parse(terms))
        {
            if (schema.FindField(term.Column) is null)
                throw new ArgumentException($"Partition term '{term.Text}' names column '{term.Column}', which the pipeline's output does not have; its columns are {string.Join(", ", schema.Columns.Select(c => c.Name))}.");
            try
            {
                builder = term.Transform switch
                {
                    "identity" => builder.Identity(term.Column),
                    "year" => builder.Year(term.Column),
                    "month" => builder.Month(term.Column),
                    "day" => builder.Day(term.Column),
                    "hour" => builder.Hour(term.Column),
                    "bucket" => builder.Bucket(term.Column, term.Argument!.Value),
                    _ => builder.Truncate(term.Column, term.Argument!.Value),
                };
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Partition term '{term.Text}' does not apply to column '{term.Column}' ({schema.FindField(term.Column)!.Type}): {e.Message}");
            }
        }
        return builder.Build();
    }

    private static List<Term> Parse(IReadOnlyList<string> terms)
    {
        if (terms.Count > MaxTerms)
            throw new ArgumentException($"The sink has {terms.Count} partition terms; the limit is {MaxTerms}.");
        var parsed = new List<Term>(terms.Count);
        foreach (var text in terms)
        {
            var m = Pattern().Match(text.Trim());
            if (!m.Success)
                throw new ArgumentException($"Partition term '{text}' is not valid; {Valid}.");
            string transform = m.Groups["fn"].Success ? m.Groups["fn"].Value.ToLowerInvariant() : "identity";
            int? argument = null;
            switch (transform)
            {
                case "identity" or "year" or "month" or "day" or "hour":
                    if (m.Groups["n"].Success)
                        throw new ArgumentException($"Partition term '{text}': {transform} takes only a column; {Valid}.");
                    break;
                case "bucket" or "truncate":
                    if (!m.Groups["n"].Success)
                        throw new ArgumentException($"Partition term '{text}': {transform} takes a number and a column, e.g. {transform}(16, {m.Groups["col"].Value}).");
                    if (!int.TryParse(m.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
                        throw new ArgumentException($"Partition term '{text}': {m.Groups["n"].Value} is not a valid {(transform == "bucket" ? "number of buckets" : "width")}; give a whole number from 1 to {int.MaxValue}.");
                    argument = n;
                    break;
                default:
                    throw new ArgumentException($"Partition term '{text}': unknown transform '{transform}'; {Valid}.");
            }
            var term = new Term(text, transform, argument, m.Groups["col"].Value);
            if (parsed.Any(p => p.Column == term.Column && p.Transform == term.Transform))
                throw new ArgumentException($"Partition term '{text}' repeats a term of the same column and transform.");
            parsed.Add(term);
        }
        return parsed;
    }

    [GeneratedRegex(@"^(?:(?<fn>[A-Za-z]+)\(\s*(?:(?<n>\d+)\s*,\s*)?(?<col>[A-Za-z_][A-Za-z0-9_]*)\s*\)|(?<col>[A-Za-z_][A-Za-z0-9_]*))$")]
    private static partial Regex Pattern();
}
