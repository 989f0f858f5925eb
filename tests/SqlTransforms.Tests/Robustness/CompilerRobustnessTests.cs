using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Robustness;

public sealed class CompilerRobustnessTests(ITestOutputHelper output)
{
    [Fact]
    public void Random_and_mutated_sql_ends_in_a_plan_or_a_sql_error_through_parser_binder_and_optimizer()
    {
        int seed = Environment.GetEnvironmentVariable("SQL_FUZZ_SEED") is { } s ? int.Parse(s) : Random.Shared.Next();
        output.WriteLine($"seed {seed} (SQL_FUZZ_SEED={seed} repeats this run)");
        var mutator = new SqlMutator(new Random(seed));
        var schema = new CorpusCase("", "id BIGINT NOT NULL, name VARCHAR, score DOUBLE, ts TIMESTAMP, tags VARCHAR[], s STRUCT(f INTEGER, g VARCHAR), ok BOOLEAN, d DATE, amount DECIMAL(10,2), value VARCHAR, \"Name\" VARCHAR",
            [], "", null, null, false, SqlMode.Bounded, [], null).ArrowSchema();
        var sources = new Dictionary<string, Apache.Arrow.Schema> { ["events"] = schema };
        int parsed = 0, refused = 0;
        for (int i = 0; i < 20_000; i++)
        {
            string sql = mutator.Next();
            try
            {
                SqlProgram.Compile(sql, sources, i % 3 == 0 ? SqlMode.Streaming : SqlMode.Bounded);
                parsed++;
            }
            catch (SqlException e)
            {
                Assert.InRange(e.Line, 1, sql.Length + 1);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed}, input {i}: {e.GetType().Name} for {sql}\n{e}");
            }
        }
        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.True(parsed > 100 && refused > 1_000, $"{parsed} compiled, {refused} refused: the generator should produce both");
    }
}
