using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// A deduplication over far more keys than its state budget holds keeps the live heap within the budget and a fixed
/// slack while it runs and while its window closes (merged from its runs a batch at a time), and keeps the right row
/// of every key. Alone in its collection (<see cref="HeapMeasuringCollection"/>), so the heap it measures is its own.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class TopNMemoryBoundTests : IDisposable
{
    private const long Start = 1_767_225_600_000_000; // 2026-01-01 00:00:00
    private const long Hour = 3_600_000_000;
    private const int BatchRows = 8192;
    private const long Budget = 1 << 20;
    /// <summary>What the heap holds beside the state: a batch in and out, a merge's batches, the execution.</summary>
    private const long Slack = 4 << 20;

    private static readonly Schema Input = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false),
        ArrowTypes.Field("v", SqlType.BigInt, false)], null);

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-topn-bound-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    /// <summary>
    /// 60,000 BIGINT keys, each three times in a scattered order within the hour, deduplicated to the row with the
    /// highest v per key (ties to the earliest) through a tumble with a 1 MB budget: all in memory the kept rows take
    /// many times that; bounded, they spill, and the live heap stays within the budget and the slack.
    /// </summary>
    [Fact]
    public void A_deduplication_over_far_more_keys_than_its_budget_holds_within_it_and_keeps_each_keys_row()
    {
        const int Keys = 60_000;
        const long Records = 3L * Keys;
        // the kept row of each key, computed first so that the heap measured from here on is the execution's
        var expected = new Dictionary<long, (long V, long Ts)>(Keys);
        for (long r = 0; r < Records; r++)
        {
            var (t, k, v) = Record(r, Records, Keys);
            if (!expected.TryGetValue(k, out var best) || v > best.V) expected[k] = (v, t);
        }
        string sql = "WATERMARK FOR input.ts AS ts - INTERVAL '1' SECOND;\nINSERT INTO out SELECT k, v, ts, rn FROM "
            + "(SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '1' HOUR), k ORDER BY v DESC) AS rn FROM input) WHERE rn = 1";
        var program = SqlProgram.Compile(sql, new Dictionary<string, Schema> { ["input"] = Input }, SqlMode.Streaming);
        long rows = 0, wrong = 0, mostLive = 0;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var execution = program.Start(0, batch =>
        {
            rows += batch.Length;
            var ks = Vectors.Values<long>(batch.Column(0));
            var vs = Vectors.Values<long>(batch.Column(1));
            var ts = Vectors.Values<long>(batch.Column(2));
            for (int i = 0; i < batch.Length; i++)
                if (expected[ks[i]] != (vs[i], ts[i])) wrong++;
            mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
        }, () => Start, new StateOptions { Shards = 2, MemoryBytes = Budget, SpillDirectory = _spill });
        for (long first = 0; first < Records; first += BatchRows)
        {
            int count = (int)Math.Min(BatchRows, Records - first);
            var ts = Vectors.Allocate<long>(count, out var times);
            var ks = Vectors.Allocate<long>(count, out var keyValues);
            var vs = Vectors.Allocate<long>(count, out var values);
            for (int i = 0; i < count; i++) (times[i], keyValues[i], values[i]) = Record(first + i, Records, Keys);
            execution.Push("input", new RecordBatch(Input, [Vectors.Fixed(SqlType.Timestamp, ts, null, count), Vectors.Fixed(SqlType.BigInt, ks, null, count),
                Vectors.Fixed(SqlType.BigInt, vs, null, count)], count));
            mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        execution.Finish();
        var use = execution.StateMemoryUse;

        Assert.Equal(Keys, rows);
        Assert.Equal(0, wrong);
        Assert.True(use.RunsSpilled >= 5, $"{use.RunsSpilled} runs spilled");
        Assert.True(use.PeakHeld <= Budget + (64 << 10), $"the state held {use.PeakHeld:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.True(mostLive <= Budget + Slack, $"the live heap grew by {mostLive:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>Record <paramref name="r"/>: its time, its key (scattered by an odd multiplier) and its value (with ties:
    /// the earliest of a key's best rows is kept).</summary>
    private static (long Ts, long K, long V) Record(long r, long records, int keys) =>
        (Start + r * Hour / records, unchecked((r % keys) * (long)0x9E3779B97F4A7C15), r * 7919 % 100);
}
