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
    private const long Hour = 3_600_000_000;
    private const int BatchRows = 8192;
    private const long Budget = 2 << 20;
    /// <summary>What the heap holds beside the state: a batch in and out, a merge's batches, the execution.</summary>
    private const long Slack = 4 << 20;

    private static readonly Schema Input = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false),
        ArrowTypes.Field("v", SqlType.BigInt, false)], null);

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-bound-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    /// <summary>
    /// The memory bound at a small scale: 300,000 BIGINT keys, each twice in a scattered order, through a keyed tumble
    /// with a 2 MB budget, which spills many times. The state's own accounting (its tables at their capacity, plus the
    /// garbage of the arrays it outgrew or let go of until a collection) never passes the budget; the live heap, measured
    /// after every batch and every output batch of the merge at the window's close, stays within the budget and a fixed
    /// slack; and the result is exact. Before, the state spilled once its estimate was past the budget, after a table
    /// had doubled (and counted a table emptied by a spill as nothing).
    /// </summary>
    [Fact]
    public void A_tumble_over_far_more_keys_than_its_budget_holds_within_it_and_is_exact()
    {
        const int Keys = 300_000;
        var (output, use) = Run("tumble(INTERVAL '1' HOUR)", Keys, Budget);

        Assert.Equal(Keys, output.Rows);
        Assert.Equal((2, 2), (output.MinCount, output.MaxCount));
        Assert.Equal(2L * Keys, output.Counted);
        Assert.Equal(Generated(Keys), output.Sum);
        Assert.True(use.RunsSpilled >= 5, $"{use.RunsSpilled} runs spilled");
        // a new pane's empty tables (a few KB) are the only state taken without asking the budget
        Assert.True(use.PeakHeld <= Budget + (64 << 10), $"the state held {use.PeakHeld:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.True(use.PeakAccounted <= Budget + (64 << 10), $"the state accounted for {use.PeakAccounted:N0} bytes at most with its garbage, over a budget of {Budget:N0}");
        Assert.True(use.PeakHeld >= Budget / 3, $"the state held {use.PeakHeld:N0} bytes at most: the budget is for using");
        Assert.True(output.MostLive <= Budget + Slack, $"the live heap grew by {output.MostLive:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>
    /// A hop window over more keys than the budget holds: 200,000 keys, each in both half-hour panes of the hour, through
    /// hop(30 minutes, 1 hour). Each window's panes are merged from their runs a batch at a time, so the live heap stays
    /// within the budget and a fixed slack while it is emitted (merged in memory, the hour's 200,000 groups took
    /// several times the budget), and the rows equal those of the run all in memory.
    /// </summary>
    [Fact]
    public void A_hop_window_over_more_keys_than_its_budget_is_merged_within_it_and_equals_the_in_memory_rows()
    {
        const int Keys = 200_000;
        const string Window = "hop(INTERVAL '30' MINUTE, INTERVAL '1' HOUR)";
        var (inMemory, _) = Run(Window, Keys, long.MaxValue);
        var (bounded, use) = Run(Window, Keys, Budget);

        Assert.Equal(3 * Keys, inMemory.Rows); // each key in the windows starting at -30, 0 and 30 minutes
        Assert.Equal(inMemory with { MostLive = 0 }, bounded with { MostLive = 0 });
        Assert.True(use.RunsSpilled >= 5, $"{use.RunsSpilled} runs spilled");
        Assert.True(bounded.MostLive <= Budget + Slack, $"the live heap grew by {bounded.MostLive:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>What came out, order aside: rows, the counts' range and total, the sums' total, and a hash of every row.</summary>
    private sealed record Output(long Rows, long MinCount, long MaxCount, long Counted, Int128 Sum, ulong Hash, long MostLive);

    private static Int128 Generated(int keys)
    {
        Int128 sum = 0;
        for (long r = 0; r < 2L * keys; r++) sum += r % 1000;
        return sum;
    }

    /// <summary>
    /// count(*) and sum(v) per key and window over <paramref name="keys"/> BIGINT keys, each twice (half an hour apart,
    /// all within the hour), in a scattered order; the live heap (after a full collection) measured after every batch
    /// pushed and every batch emitted, against what it was before.
    /// </summary>
    private (Output Output, StateMemoryUse Use) Run(string window, int keys, long budget)
    {
        string sql = "WATERMARK FOR input.ts AS ts - INTERVAL '1' SECOND;\n" +
            $"INSERT INTO out SELECT window_start, k, count(*) AS n, sum(v) AS s FROM input GROUP BY {window}, k";
        var program = SqlProgram.Compile(sql, new Dictionary<string, Schema> { ["input"] = Input }, SqlMode.Streaming);
        long rows = 0, counted = 0, minCount = long.MaxValue, maxCount = 0, mostLive = 0;
        Int128 sum = 0;
        ulong hash = 0;
        long records = 2L * keys;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var execution = program.Start(0, batch =>
        {
            rows += batch.Length;
            var starts = Vectors.Values<long>(batch.Column(0));
            var ks = Vectors.Values<long>(batch.Column(1));
            var n = Vectors.Values<long>(batch.Column(2));
            var s = Vectors.Values<Int128>(batch.Column(3));
            for (int i = 0; i < batch.Length; i++)
            {
                counted += n[i];
                minCount = Math.Min(minCount, n[i]);
                maxCount = Math.Max(maxCount, n[i]);
                sum += s[i];
                hash += (ulong)HashCode.Combine(starts[i], ks[i], n[i], s[i]); // a sum: the same whatever the order
            }
            mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
        }, () => Start, new StateOptions { Shards = 2, MemoryBytes = budget, SpillDirectory = _spill });
        for (long first = 0; first < records; first += BatchRows)
        {
            int count = (int)Math.Min(BatchRows, records - first);
            var ts = Vectors.Allocate<long>(count, out var times);
            var ks = Vectors.Allocate<long>(count, out var keyValues);
            var vs = Vectors.Allocate<long>(count, out var values);
            for (int i = 0; i < count; i++)
            {
                long r = first + i;
                times[i] = Start + r * Hour / records;
                keyValues[i] = unchecked((r % keys) * (long)0x9E3779B97F4A7C15); // an odd multiplier scatters the keys
                values[i] = r % 1000;
            }
            execution.Push("input", new RecordBatch(Input, [Vectors.Fixed(SqlType.Timestamp, ts, null, count), Vectors.Fixed(SqlType.BigInt, ks, null, count),
                Vectors.Fixed(SqlType.BigInt, vs, null, count)], count));
            if (budget != long.MaxValue) mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        execution.Finish();
        return (new Output(rows, minCount, maxCount, counted, sum, hash, mostLive), execution.StateMemoryUse);
    }
}
