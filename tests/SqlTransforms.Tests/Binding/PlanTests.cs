using Apache.Arrow;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Binding;

public sealed class PlanTests
{
    private static readonly Dictionary<string, Schema> Sources = new()
    {
        ["events"] = new CorpusCase("", "id BIGINT NOT NULL, name VARCHAR, score DOUBLE, ts TIMESTAMP, tags VARCHAR[]", [], "", null, null, false, SqlMode.Bounded, [], null).ArrowSchema(),
    };

    [Fact]
    public void Filters_move_below_projections_and_scans_read_only_the_columns_used()
    {
        var program = SqlProgram.Compile("SELECT a FROM (SELECT id * 2 AS a, upper(name) AS n FROM events) WHERE a > 10", Sources, SqlMode.Bounded);
        var plan = program.Statements[0].Explain();
        Assert.Equal(
            """
            Project a AS a
              Project (id * 2) AS a, upper(name) AS n
                Filter ((id * 2) > 10)
                  Scan events [id, name]

            """.Replace("\r", ""), plan);
    }

    [Fact]
    public void A_join_gets_the_filter_terms_of_one_side_and_reads_only_the_columns_used()
    {
        // Each side of a join is kept and gathered whole, so what the query does not use must not reach it. A term over
        // the right side of a LEFT join stays above it: below, it would turn removed rows into NULL-extended ones.
        var program = SqlProgram.Compile(
            "SELECT a.name, b.score FROM events AS a LEFT JOIN events AS b ON a.id = b.id WHERE a.score > 1 AND b.name = 'x' AND a.ts < b.ts",
            Sources, SqlMode.Bounded);
        Assert.Equal(
            """
            Project name AS name, score AS score
              Filter ((name = 'x') AND (ts < ts))
                Join LEFT keys [id = id]
                  Project id AS id, name AS name, ts AS ts
                    Filter (score > 1)
                      Scan events [id, name, score, ts]
                  Project id AS id, name AS name, score AS score, ts AS ts
                    Scan events [id, name, score, ts]

            """.Replace("\r", ""), program.Statements[0].Explain());
    }

    [Fact]
    public void Constants_are_folded_when_compiling()
    {
        var plan = SqlProgram.Compile("SELECT id + (2 * 3), upper('a' || 'b') FROM events WHERE 1 = 1", Sources, SqlMode.Bounded).Statements[0].Explain();
        Assert.Contains("(id + 6)", plan);
        Assert.Contains("'AB'", plan);
        Assert.DoesNotContain("Filter", plan);
    }

    [Fact]
    public void Output_schema_carries_names_types_and_nullability_for_the_sink()
    {
        var program = SqlProgram.Compile("INSERT INTO out SELECT id, upper(name) AS u, date_trunc('hour', ts) AS h, unnest(tags) AS tag FROM events", Sources, SqlMode.Streaming);
        var schema = program.Statements[0].OutputSchema;
        Assert.Equal("out", program.Statements[0].Sink);
        Assert.Equal(["id", "u", "h", "tag"], schema.FieldsList.Select(f => f.Name));
        Assert.Equal(["int64", "utf8", "timestamp", "utf8"], schema.FieldsList.Select(f => f.DataType.Name));
        Assert.False(schema.FieldsList[0].IsNullable);
        Assert.True(schema.FieldsList[1].IsNullable);
    }

    [Fact]
    public void Failed_records_are_counted_per_reason_with_recent_samples()
    {
        var schema = Sources["events"];
        var program = SqlProgram.Compile("INSERT INTO out SELECT id, CAST(name AS INTEGER) AS n FROM events", Sources, SqlMode.Streaming);
        var names = new StringArray.Builder().Append("12").Append("x").Append("y").AppendNull().Build();
        var batch = new RecordBatch(schema, [
            new Int64Array.Builder().AppendRange([1, 2, 3, 4]).Build(), names,
            new DoubleArray.Builder().AppendRange([1, 2, 3, 4]).Build(),
            new TimestampArray.Builder(new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, (string?)null)).AppendNull().AppendNull().AppendNull().AppendNull().Build(),
            Execution.ValueArrays.Repeat(null, Types.SqlType.List(Types.SqlType.Varchar), 4)], 4);
        var output = new List<RecordBatch>();
        var execution = program.Start((_, b) => output.Add(b));
        execution.Push("events", batch);
        execution.Push("events", batch);
        Assert.Equal(4, output.Sum(b => b.Length)); // 1 and 4 of each batch: '12' converts, NULL stays NULL
        var counts = execution.Errors.Snapshot();
        var invalid = Assert.Single(counts);
        Assert.Equal(("invalid_cast", 4L), (invalid.Reason.Code, invalid.Count));
        Assert.Contains("CAST('x' AS INTEGER) failed (in SELECT)", invalid.RecentSamples);
        Assert.InRange(invalid.RecentSamples.Count, 1, Execution.RowErrorLog.SamplesPerReason);
    }

    [Fact]
    public void Deeply_nested_expressions_within_the_limits_compile_and_run()
    {
        string chain = string.Join(" + ", Enumerable.Range(0, 250).Select(_ => "id"));
        string nested = new string('(', 31) + "id" + new string(')', 31);
        var program = SqlProgram.Compile($"SELECT {chain}, {nested}, {string.Join(" OR ", Enumerable.Range(0, 1000).Select(i => $"id = {i}"))} FROM events", Sources, SqlMode.Bounded);
        Assert.Single(program.Statements);
        Assert.Throws<SqlException>(() => SqlProgram.Compile("SELECT " + string.Join(" + ", Enumerable.Range(0, 300).Select(_ => "id")) + " FROM events", Sources, SqlMode.Bounded));
    }
}
