using DataPlane.SqlTransforms.Tests.Stateful;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// Every stateful case with a <c>== duckdb_query</c> (the same answer written as a batch query: windows as epoch
/// arithmetic or a join of a generated series, late records left out by the query) gives DuckDB's rows: the golden
/// output is checked against an independent engine, not only against ours.
/// </summary>
public sealed class StatefulCorpusAgainstDuckDbTests
{
    [Theory]
    [MemberData(nameof(StatefulCorpusTests.Cases), MemberType = typeof(StatefulCorpusTests))]
    public void Case(string file)
    {
        var s = StreamCase.Load(Path.Combine(AppContext.BaseDirectory, file));
        if (s.DuckDbQuery is not { } query) return;
        using var duck = new DuckDbOracle();
        foreach (var (source, schema) in s.OtherSources.Prepend(new("input", s.Case.Schema)))
        {
            var columns = (s.Case with { Schema = schema }).Columns();
            var rows = new List<object?[]>();
            foreach (var batch in s.Steps.OfType<StreamStep.Batch>().Where(b => b.Source == source).Select(b => b.Records.InputBatch()))
                for (int i = 0; i < batch.Length; i++)
                    rows.Add(columns.Select((c, j) => Execution.ValueArrays.Get(batch.Column(j), c.Type, i)).ToArray());
            duck.Load(source, columns, rows);
        }
        var (expected, error) = duck.Query(query.TrimEnd(';'));
        Assert.True(error is null, $"DuckDB failed: {error}");
        // the golden rows without when they were emitted ("@3 ", "@end ")
        var ours = s.Case.Output!.Select(r => r[(r.IndexOf(' ', StringComparison.Ordinal) + 1)..]).Order(StringComparer.Ordinal).ToList();
        expected!.Sort(StringComparer.Ordinal);
        Assert.True(ours.Count == expected.Count, $"ours:\n  {string.Join("\n  ", ours)}\nDuckDB:\n  {string.Join("\n  ", expected)}");
        for (int i = 0; i < ours.Count; i++)
            Assert.True(CorpusAgainstDuckDbTests.RowsMatch(ours[i], expected[i]), $"row {i}: ours {ours[i]}, DuckDB {expected[i]}");
    }
}
