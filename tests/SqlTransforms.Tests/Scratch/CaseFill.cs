using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using Xunit;
using Xunit.Abstractions;
namespace DataPlane.SqlTransforms.Tests.Scratch;
public sealed class CaseFill(ITestOutputHelper output)
{
    [Fact]
    public void Fill()
    {
        if (!Directory.Exists("/tmp/newcases")) return;
        foreach (var f in Directory.GetFiles("/tmp/newcases", "*.sqltest").Order())
        {
            var c = CorpusCase.Load(f);
            output.WriteLine($"CASE {Path.GetFileName(f)}");
            var sources = new Dictionary<string, Apache.Arrow.Schema> { ["input"] = c.ArrowSchema() };
            try
            {
                var rows = CorpusTests.Run(c, sources, out var errors, out _);
                if (!c.Ordered) rows.Sort(StringComparer.Ordinal);
                foreach (var r in rows) output.WriteLine("  OURS " + r);
                foreach (var e in errors.Snapshot()) output.WriteLine($"  DROPPED {e.Reason.Code}={e.Count} {string.Join("; ", e.RecentSamples)}");
            }
            catch (SqlException e) { output.WriteLine("  OURS ERROR " + e.Message.Split('\n')[0]); }
            catch (Exception e) { output.WriteLine("  OURS CRASH " + e); }
            using var duck = new DuckDbOracle();
            var batch = c.InputBatch();
            var columns = c.Columns();
            var rowsIn = Enumerable.Range(0, batch.Length).Select(i => columns.Select((col, j) => Execution.ValueArrays.Get(batch.Column(j), col.Type, i)).ToArray()).ToList();
            duck.Load("input", columns, rowsIn);
            var (expected, error) = duck.Query(c.Query.TrimEnd(';'));
            if (error is not null) output.WriteLine("  DUCK ERROR " + error.Split('\n')[0]);
            else { if (!c.Ordered) expected!.Sort(StringComparer.Ordinal); foreach (var r in expected!) output.WriteLine("  DUCK " + r); }
        }
    }
}
