using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Corpus;

/// <summary>Runs every .sqltest file under Corpus/ (new files are picked up by themselves).</summary>
public sealed class CorpusTests
{
    public static IEnumerable<object[]> Cases() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus"), "*.sqltest", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetRelativePath(AppContext.BaseDirectory, f) });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case(string file)
    {
        var c = CorpusCase.Load(Path.Combine(AppContext.BaseDirectory, file));
        var sources = new Dictionary<string, Apache.Arrow.Schema> { ["input"] = c.ArrowSchema() };
        if (c.Error is not null)
        {
            var e = Assert.Throws<SqlException>(() => Run(c, sources, out _, out _));
            Assert.Contains(c.Error, e.Message);
            return;
        }
        Assert.NotNull(c.Output);
        var rows = Run(c, sources, out var errors, out _);
        var expected = c.Output!.ToList();
        if (!c.Ordered) { rows.Sort(StringComparer.Ordinal); expected.Sort(StringComparer.Ordinal); }
        Assert.Equal(expected, rows);
        var dropped = errors.Snapshot().Select(x => $"{x.Reason.Code}={x.Count}").ToList();
        Assert.Equal(c.Dropped.Select(d => d.Trim()).Order(StringComparer.Ordinal), dropped.Order(StringComparer.Ordinal));
    }

    internal static List<string> Run(CorpusCase c, Dictionary<string, Apache.Arrow.Schema> sources, out Execution.RowErrorLog errors, out SqlProgram program)
    {
        program = SqlProgram.Compile(c.Query, sources, c.Mode);
        var input = new Dictionary<string, IReadOnlyList<Apache.Arrow.RecordBatch>> { ["input"] = [c.InputBatch()] };
        var results = program.Run(input, out errors, clock: () => 1_704_067_200_000_000);
        var plan = program.Statements[^1];
        var types = plan.OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        return RowText.Rows(results[^1], types);
    }
}
