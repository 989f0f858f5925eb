using Apache.Arrow;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// A stateful golden case: a corpus case (<see cref="CorpusCase"/>'s sections, always compiled in streaming mode) whose input is a
/// sequence of steps. JSON lines are records; <c>-- batch</c> ends a batch; <c>-- partition N</c> ends it and sends
/// the next ones to partition N; <c>-- clock 2024-01-01 00:01:00</c> sets the processing-time clock (it starts at
/// 2024-01-01 00:00:00); <c>-- tick</c> moves time on without records (<see cref="SqlExecution.AdvanceTime"/>);
/// <c>-- commit</c> is a sink's commit (<see cref="SqlExecution.Flush"/>: updating aggregates emit their changed keys).
/// Output rows start with <c>@N</c> when emitted by the Nth batch (or a tick after it), or <c>@end</c> for rows
/// emitted at the end of input: when a window closes is part of the answer. A case may read more sources than
/// <c>input</c>: each is a section <c>== source NAME</c> holding its schema, and <c>-- source NAME</c> in the input
/// sends the records after it there (<c>-- source input</c> back). A lookup join's table is a section
/// <c>== lookup NS.TABLE</c> holding its schema; <c>-- lookup NS.TABLE</c> in the input makes the records after it (up
/// to the next step) the table's rows from then on, as a new snapshot would. <c>== duckdb_query</c> is a batch query giving
/// the output's rows (without their <c>@N</c>) when DuckDB runs it over each source's records as a table of its name.
/// </summary>
internal sealed record StreamCase(CorpusCase Case, IReadOnlyList<StreamStep> Steps)
{
    /// <summary>The schemas of the sources besides <c>input</c>, by name.</summary>
    public IReadOnlyDictionary<string, string> OtherSources { get; init; } = new Dictionary<string, string>();

    /// <summary>The schemas of the lookup tables, by qualified name.</summary>
    public IReadOnlyDictionary<string, string> LookupTables { get; init; } = new Dictionary<string, string>();

    /// <summary>The batch query DuckDB answers with the output's rows, if the case has one.</summary>
    public string? DuckDbQuery { get; init; }

    public const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00 UTC

    public static StreamCase Load(string path)
    {
        var c = CorpusCase.Load(path) with { Mode = SqlMode.Streaming };
        var all = File.ReadAllLines(path);
        var others = new Dictionary<string, string>();
        var tables = new Dictionary<string, string>();
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i].StartsWith("== source ", StringComparison.Ordinal))
                others[all[i]["== source ".Length..].Trim()] = all.Skip(i + 1).First(l => l.Trim().Length > 0).Trim();
            if (all[i].StartsWith("== lookup ", StringComparison.Ordinal))
                tables[all[i]["== lookup ".Length..].Trim()] = all.Skip(i + 1).First(l => l.Trim().Length > 0).Trim();
        }
        string? table = null;
        var steps = new List<StreamStep>();
        var lines = new List<string>();
        int partition = 0;
        string source = "input";
        void Flush()
        {
            if (table is not null)
            {
                steps.Add(new StreamStep.Table(table, c with { Input = lines.ToList(), Schema = tables[table] }));
                table = null;
                lines.Clear();
                return;
            }
            if (lines.Count == 0) return;
            steps.Add(new StreamStep.Batch(c with { Input = lines.ToList(), Schema = source == "input" ? c.Schema : others[source] }, partition, source));
            lines.Clear();
        }
        foreach (var line in all.SkipWhile(l => l.Trim() != "== input").Skip(1).TakeWhile(l => !l.StartsWith("== ", StringComparison.Ordinal)))
        {
            var t = line.Trim();
            if (t.Length == 0) continue;
            if (!t.StartsWith("--", StringComparison.Ordinal)) { lines.Add(t); continue; }
            Flush();
            var words = t[2..].Trim().Split(' ', 2);
            switch (words[0])
            {
                case "batch": break;
                case "source": source = words[1].Trim(); break;
                case "lookup": table = words[1].Trim(); break;
                case "partition": partition = int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "clock":
                    if (!ValueText.TryParseTimestamp(words[1], out long micros)) throw new FormatException(line);
                    steps.Add(new StreamStep.Clock(micros));
                    break;
                case "tick": steps.Add(new StreamStep.Tick()); break;
                case "commit": steps.Add(new StreamStep.Commit()); break;
                default: throw new FormatException($"unknown step {line}");
            }
        }
        Flush();
        var duckdb = all.SkipWhile(l => l.Trim() != "== duckdb_query").Skip(1).TakeWhile(l => !l.StartsWith("== ", StringComparison.Ordinal)).ToList();
        return new StreamCase(c, steps)
        {
            OtherSources = others,
            LookupTables = tables,
            DuckDbQuery = duckdb.Count == 0 ? null : string.Join('\n', duckdb).Trim(),
        };
    }

    public Dictionary<string, Schema> Sources()
    {
        var sources = new Dictionary<string, Schema> { ["input"] = Case.ArrowSchema() };
        foreach (var (name, schema) in OtherSources) sources[name] = (Case with { Schema = schema }).ArrowSchema();
        return sources;
    }

    public Dictionary<string, Schema> Lookups() => LookupTables.ToDictionary(t => t.Key, t => (Case with { Schema = t.Value }).ArrowSchema());
}

internal abstract record StreamStep
{
    public sealed record Batch(CorpusCase Records, int Partition, string Source = "input") : StreamStep;
    public sealed record Clock(long Micros) : StreamStep;
    public sealed record Tick : StreamStep;
    /// <summary>A lookup table's rows from here on.</summary>
    public sealed record Table(string Name, CorpusCase Rows) : StreamStep;
    public sealed record Commit : StreamStep;
}
