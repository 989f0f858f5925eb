using Apache.Arrow;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using DataPlane.SqlTransforms.Types;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Robustness;

/// <summary>
/// 100,000 SQL texts a run (SQL_FUZZ_INPUTS=N for another number), half from a small statement grammar and half well-typed random expressions, each mutated
/// zero to three times (tokens dropped, duplicated or replaced, brackets piled up): each must end in a plan or a
/// <see cref="SqlException"/> with a position, never another exception; every plan then runs over a batch of random
/// rows, where a bad value may only drop records. The seed is printed; SQL_FUZZ_SEED=N repeats a run and
/// SQL_FUZZ_SEED=random runs a new one.
/// </summary>
public sealed class CompilerRobustnessTests(ITestOutputHelper output)
{
    private static int Inputs => Environment.GetEnvironmentVariable("SQL_FUZZ_INPUTS") is { Length: > 0 } n ? int.Parse(n) : 100_000;

    [Fact]
    public void Random_and_mutated_sql_ends_in_a_plan_or_a_sql_error_and_plans_run()
    {
        // a fixed seed by default, so the suite is the same run after run; SQL_FUZZ_SEED=random explores, SQL_FUZZ_SEED=N repeats
        int seed = Environment.GetEnvironmentVariable("SQL_FUZZ_SEED") switch { null or "" => 20_261_205, "random" => Random.Shared.Next(), var s => int.Parse(s) };
        output.WriteLine($"seed {seed} (SQL_FUZZ_SEED={seed} repeats this run)");
        var random = new Random(seed);
        var mutator = new SqlMutator(random);
        var expressions = new ExpressionGenerator(random);
        var events = new CorpusCase("", "id BIGINT NOT NULL, name VARCHAR, score DOUBLE, ts TIMESTAMP, tags VARCHAR[], s STRUCT(f INTEGER, g VARCHAR), ok BOOLEAN, d DATE, amount DECIMAL(10,2), value VARCHAR, \"Name\" VARCHAR",
            [], "", null, null, false, SqlMode.Bounded, [], null).ArrowSchema();
        var columns = ExpressionGenerator.Columns;
        var tSchema = new Schema(columns.Select(c => ArrowTypes.Field(c.Name, c.Type, c.Nullable)), null);
        var rows = expressions.Rows(20);
        var tBatch = new RecordBatch(tSchema, columns.Select((c, i) => ValueArrays.FromValues(c.Type, rows.Select(r => r[i]).ToList())).ToArray(), rows.Count);
        var sources = new Dictionary<string, Schema> { ["events"] = events, ["t"] = tSchema };
        int compiled = 0, refused = 0, ran = 0;
        for (int i = 0; i < Inputs; i++)
        {
            string sql = i % 2 == 0
                ? mutator.Next()
                : mutator.Mutations($"{(i % 3 == 0 ? "INSERT INTO out " : "")}SELECT id, {expressions.Expression(expressions.AnyType(), 3)} AS v FROM t WHERE {expressions.Expression(SqlType.Boolean, 2)}", random.Next(0, 2));
            try
            {
                var program = SqlProgram.Compile(sql, sources, i % 3 == 0 ? SqlMode.Streaming : SqlMode.Bounded);
                compiled++;
                if (program.Statements.All(st => ReadsOnly(st, "t")))
                {
                    program.Run(new Dictionary<string, IReadOnlyList<RecordBatch>> { ["t"] = [tBatch] }, out _);
                    ran++;
                }
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
        output.WriteLine($"{compiled} compiled ({ran} of them ran), {refused} refused");
        Assert.True(compiled > Inputs / 5 && refused > Inputs / 4 && ran > Inputs / 5, $"{compiled} compiled, {ran} ran, {refused} refused: the generators should produce all three");
    }

    private static bool ReadsOnly(SqlStatementPlan statement, string source) => !statement.Explain().Contains("Scan events", StringComparison.Ordinal);
}
