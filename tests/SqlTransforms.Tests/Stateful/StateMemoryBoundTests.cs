using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Keyed state within its memory budget plus a fixed overhead, whatever the keys: the state's own accounting and the
/// live heap, measured as it runs. Alone in its collection (<see cref="HeapMeasuringCollection"/>), so the heap it
/// measures is its own.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class StateMemoryBoundTests : IDisposable
{
    private const long Start = 1_767_225_600_000_000; // 2026-01-01 00:00:00

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-bound-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    /// <summary>
    /// The memory bound at a small scale: 300,000 BIGINT keys, each twice in a scattered order, through a keyed tumble
    /// with a 2 MB budget, which spills many times. The state's own accounting (its tables at their capacity, plus the
    /// garbage of the arrays it outgrew or let go of until a collection) never passes the budget; the live heap, measured
    /// after every batch and every output batch of the merge at the window's close, stays within the budget and a fixed
    /// slack (a batch in and out, a merge's batches); and the result is exact. Before, the state spilled once its
    /// estimate was past the budget, after a table had doubled (and counted a table emptied by a spill as nothing).
    /// </summary>
    [Fact]
    public void A_tumble_over_far_more_keys_than_its_budget_holds_within_it_and_is_exact()
    {
        const int Keys = 300_000, BatchRows = 8192;
        const long Budget = 2 << 20, Slack = 4 << 20;
        var schema = new Schema([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false),
            ArrowTypes.Field("v", SqlType.BigInt, false)], null);
        const string Sql = "WATERMARK FOR input.ts AS ts - INTERVAL '1' SECOND;\n" +
            "INSERT INTO out SELECT window_start, k, count(*) AS n, sum(v) AS s FROM input GROUP BY tumble(INTERVAL '1' HOUR), k";
        var program = SqlProgram.Compile(Sql, new Dictionary<string, Schema> { ["input"] = schema }, SqlMode.Streaming);
        long rows = 0, counted = 0, mostLive = 0;
        Int128 sum = 0, generated = 0;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var execution = program.Start(0, batch =>
        {
            rows += batch.Length;
            var n = Vectors.Values<long>(batch.Column(2));
            var s = Vectors.Values<Int128>(batch.Column(3));
            for (int i = 0; i < batch.Length; i++)
            {
                Assert.Equal(2, n[i]);
                counted += n[i];
                sum += s[i];
            }
            mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
        }, () => Start, new StateOptions { Shards = 2, MemoryBytes = Budget, SpillDirectory = _spill });
        for (int first = 0; first < 2 * Keys; first += BatchRows)
        {
            int count = Math.Min(BatchRows, 2 * Keys - first);
            var ts = Vectors.Allocate<long>(count, out var times);
            var ks = Vectors.Allocate<long>(count, out var keys);
            var vs = Vectors.Allocate<long>(count, out var values);
            for (int i = 0; i < count; i++)
            {
                long r = first + i;
                times[i] = Start + r * 1000; // all within the hour
                keys[i] = unchecked((r % Keys) * (long)0x9E3779B97F4A7C15); // each key twice, scattered by an odd multiplier
                values[i] = r % 1000;
                generated += values[i];
            }
            execution.Push("input", new RecordBatch(schema, [Vectors.Fixed(SqlType.Timestamp, ts, null, count), Vectors.Fixed(SqlType.BigInt, ks, null, count),
                Vectors.Fixed(SqlType.BigInt, vs, null, count)], count));
            mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        execution.Finish();

        Assert.Equal(Keys, rows);
        Assert.Equal(2L * Keys, counted);
        Assert.Equal(generated, sum);
        var use = execution.StateMemoryUse;
        Assert.True(use.RunsSpilled >= 5, $"{use.RunsSpilled} runs spilled");
        // a new pane's empty tables (a few KB) are the only state taken without asking the budget
        Assert.True(use.PeakHeld <= Budget + (64 << 10), $"the state held {use.PeakHeld:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.True(use.PeakAccounted <= Budget + (64 << 10), $"the state accounted for {use.PeakAccounted:N0} bytes at most with its garbage, over a budget of {Budget:N0}");
        Assert.True(use.PeakHeld >= Budget / 3, $"the state held {use.PeakHeld:N0} bytes at most: the budget is for using");
        Assert.True(mostLive <= Budget + Slack, $"the live heap grew by {mostLive:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }
}
