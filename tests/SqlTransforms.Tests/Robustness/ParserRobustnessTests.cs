using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Syntax;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Robustness;

public sealed class ParserRobustnessTests(ITestOutputHelper output)
{
    [Fact]
    public void Random_and_mutated_sql_ends_in_statements_or_a_sql_error()
    {
        int seed = Environment.GetEnvironmentVariable("SQL_FUZZ_SEED") is { } s ? int.Parse(s) : Random.Shared.Next();
        output.WriteLine($"seed {seed} (SQL_FUZZ_SEED={seed} repeats this run)");
        var mutator = new SqlMutator(new Random(seed));
        int parsed = 0, refused = 0;
        for (int i = 0; i < 20_000; i++)
        {
            string sql = mutator.Next();
            try
            {
                Parser.Parse(sql);
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
        Assert.True(parsed > 1_000 && refused > 1_000, $"{parsed} parsed, {refused} refused: the generator should produce both");
    }
}
