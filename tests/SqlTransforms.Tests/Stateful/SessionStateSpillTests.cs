using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using DataPlane.SqlTransforms.Types;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Session windows' state split into shards and bounded in memory: over thousands of keys with out-of-order times and a
/// budget of a few tens of KB, the sessions spill to sorted runs of fragments many times, and the fragments of a session
/// found in several runs and in memory are folded into one when the runs are merged. The rows equal those of the same
/// run all in memory and DuckDB's batch answer over the records on time; a snapshot taken while spilled, restored with
/// another shard count, continues to the same rows; the spill folder is empty at the end.
/// </summary>
public sealed class SessionStateSpillTests(ITestOutputHelper output) : IDisposable
{
    private const long Second = 1_000_000;
    private const long Delay = 5 * Second;
    private const long Gap = 30 * Second;

    private const string Aggregates = "count(*) AS n, sum(v) AS s, max(x) AS mx, count(DISTINCT v) AS d, avg(x) AS a, first_value(v) AS f, array_agg(v) AS l";
    private const string TheirAggregates = "count(*) AS n, sum(v) AS s, max(x) AS mx, count(DISTINCT v) AS d, avg(x) AS a, first(v ORDER BY ts) AS f, array_agg(v ORDER BY ts) AS l";

    private const string Sql = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\n"
        + $"INSERT INTO out SELECT window_start, window_end, k, {Aggregates} FROM input GROUP BY session(INTERVAL '30 seconds'), k";

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-session-spill-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    [Fact]
    public void Sessions_over_more_keys_than_their_budget_spill_and_give_the_in_memory_rows_and_duckdbs()
    {
        var random = new Random(20_261_206);
        // 6,000 records 50 a second over 2,000 keys: a key's records about 40 s apart, so half of them join a session
        // (some out of order, bridging two), over two minutes of event time
        var batches = WindowsAgainstDuckDbTests.Batches(random, StateSpillTests.Records(random, 6000, 2000));

        var (inMemory, _, _) = StateSpillTests.Run(Sql, batches, StateOptions.InMemory);
        var small = new StateOptions { Shards = 3, MemoryBytes = 32 * 1024, SpillDirectory = _spill };
        var (spilled, late, use) = StateSpillTests.Run(Sql, batches, small);
        output.WriteLine($"{inMemory.Count} sessions; {use}");

        Assert.True(use.RunsSpilled > 20, $"{use.RunsSpilled} runs spilled");
        Assert.True(use.PeakHeld < 2 * small.MemoryBytes, $"{use.PeakHeld} bytes held at most");
        StateSpillTests.Same(inMemory, spilled);
        var (onTime, expectedLate) = WindowsAgainstDuckDbTests.OnTime(batches, Delay);
        Assert.Equal(expectedLate, late);
        Assert.True(late > 0, "no record was late");
        using var duck = new DuckDbOracle();
        duck.Load("t", WindowsAgainstDuckDbTests.Columns, onTime);
        var (expected, error) = duck.Query(WindowsAgainstDuckDbTests.Sessions(Gap, keyed: true, TheirAggregates));
        Assert.Null(error);
        StateSpillTests.Same(expected!, spilled);
        Assert.True(expected!.Count < onTime.Count * 3 / 4, $"{expected.Count} sessions of {onTime.Count} records: too few join one");
        // every run was merged and deleted, and the execution's folder with the last
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(5, false)]
    [InlineData(5, true)]
    public void A_snapshot_taken_while_spilled_restored_with_another_shard_count_continues_to_the_same_rows(int shards, bool apart)
    {
        var random = new Random(7);
        var batches = WindowsAgainstDuckDbTests.Batches(random, StateSpillTests.Records(random, 4000, 1500));
        var (uninterrupted, _, _) = StateSpillTests.Run(Sql, batches, StateOptions.InMemory);

        var three = new StateOptions { Shards = 3, MemoryBytes = 16 * 1024, SpillDirectory = _spill };
        bool spilledAtCut = false;
        var (restored, _, use) = StateSpillTests.Run(Sql, batches, three, cut: batches.Count / 2, restoreWith: three with { Shards = shards }, apart: apart,
            atCut: _ => spilledAtCut = Directory.EnumerateFiles(_spill, "*", SearchOption.AllDirectories).Any());

        Assert.True(spilledAtCut, "nothing was spilled when the snapshot was taken");
        Assert.True(use.RunsSpilled > 10, $"{use.RunsSpilled} runs spilled");
        StateSpillTests.Same(uninterrupted, restored);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>
    /// A watermark that moves with every small batch and ends sessions every time: a spilled shard is merged (its runs
    /// read whole) far less often than the watermark moves, at most 16 fragments read per record, and the rows are still
    /// those of the run all in memory.
    /// </summary>
    [Fact]
    public void A_spilled_shard_is_not_merged_at_every_move_of_the_watermark()
    {
        var schema = new Schema([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false)], null);
        const string sql = "WATERMARK FOR ts AS ts - INTERVAL '1' SECOND;\n"
            + "INSERT INTO out SELECT window_start, window_end, k, count(*) AS n FROM input GROUP BY session(INTERVAL '30 seconds'), k";
        const int Batches = 1000, Rows = 10, Keys = 2000;
        (List<string> Rows, int Merges, StateMemoryUse Use) Run(StateOptions options)
        {
            var program = SqlProgram.Compile(sql, new Dictionary<string, Schema> { ["input"] = schema }, SqlMode.Streaming);
            var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
            var rows = new List<string>();
            using var execution = program.Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => 0, options);
            var session = (SessionWindowOperator)execution.Stateful.Single();
            var random = new Random(3);
            for (int b = 0; b < Batches; b++)
            {
                // 50 records a second in time order: each batch moves the watermark by a fifth of a second
                var ts = Vectors.Allocate<long>(Rows, out var times);
                var ks = Vectors.Allocate<long>(Rows, out var keys);
                for (int i = 0; i < Rows; i++)
                {
                    times[i] = 1_704_067_200_000_000L + (b * Rows + i) * Second / 50;
                    keys[i] = random.Next(Keys);
                }
                execution.Push("input", new RecordBatch(schema, [Vectors.Fixed(SqlType.Timestamp, ts, null, Rows), Vectors.Fixed(SqlType.BigInt, ks, null, Rows)], Rows));
            }
            execution.Finish();
            return (rows, session.Merges, execution.StateMemoryUse);
        }

        var (inMemory, _, _) = Run(StateOptions.InMemory);
        var (spilled, merges, use) = Run(new StateOptions { Shards = 2, MemoryBytes = 16 * 1024, SpillDirectory = _spill });
        output.WriteLine($"{inMemory.Count} sessions; {merges} merges over {Batches} batches; {use}");

        Assert.True(use.RunsSpilled > 20, $"{use.RunsSpilled} runs spilled");
        StateSpillTests.Same(inMemory, spilled);
        Assert.True(merges < Batches / 2, $"{merges} merges of 2 shards over {Batches} batches");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }
}
