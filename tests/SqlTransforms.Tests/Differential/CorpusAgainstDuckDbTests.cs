using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>Every corpus case DuckDB can run gives DuckDB's rows too, unless the case names an intended difference.</summary>
public sealed class CorpusAgainstDuckDbTests
{
    [Theory]
    [MemberData(nameof(CorpusTests.Cases), MemberType = typeof(CorpusTests))]
    public void Case(string file)
    {
        var c = CorpusCase.Load(Path.Combine(AppContext.BaseDirectory, file));
        if (c.Error is not null || c.Mode == SqlMode.Streaming) return; // refusals are ours; DuckDB has nothing to compare
        if (c.DuckDbSkip is { } reason)
        {
            Assert.Contains(IntendedDifferences.All, r => reason.StartsWith("skip: " + r, StringComparison.Ordinal));
            return;
        }
        using var duck = new DuckDbOracle();
        var batch = c.InputBatch();
        var columns = c.Columns();
        var rows = Enumerable.Range(0, batch.Length).Select(i => columns.Select((col, j) => Execution.ValueArrays.Get(batch.Column(j), col.Type, i)).ToArray()).ToList();
        duck.Load("input", columns, rows);
        var (expected, error) = duck.Query(c.Query.TrimEnd(';'));
        if (c.Dropped.Count > 0)
        {
            // we drop and count the records that overflow or do not convert; DuckDB fails the query on them
            Assert.True(DuckDbOracle.IsRecordError(error),
                $"this case drops records ({string.Join(", ", c.Dropped)}), so DuckDB should fail on them; it answered {error ?? string.Join("; ", expected!)}");
            return;
        }
        Assert.True(error is null, $"DuckDB failed: {error}");
        var ours = c.Output!.ToList();
        if (!c.Ordered) { ours.Sort(StringComparer.Ordinal); expected!.Sort(StringComparer.Ordinal); }
        Assert.Equal(expected!.Count, ours.Count);
        for (int i = 0; i < ours.Count; i++)
            Assert.True(RowsMatch(ours[i], expected[i]), $"row {i}: ours {ours[i]}, DuckDB {expected[i]}");
    }

    /// <summary>Rows equal as text, except that floating point values may differ in the last bits.</summary>
    internal static bool RowsMatch(string a, string b)
    {
        if (a == b) return true;
        var x = a.Split(" | ");
        var y = b.Split(" | ");
        if (x.Length != y.Length) return false;
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] == y[i]) continue;
            if (!double.TryParse(x[i], System.Globalization.CultureInfo.InvariantCulture, out double p) || !double.TryParse(y[i], System.Globalization.CultureInfo.InvariantCulture, out double q)) return false;
            if (Math.Abs(p - q) > 1e-9 * Math.Max(1, Math.Max(Math.Abs(p), Math.Abs(q)))) return false;
        }
        return true;
    }
}
