using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// An interval join over far more keys than its state budget holds keeps the live heap within the budget and a fixed
/// slack while it runs (its rows waiting for the other side's watermark spilled by time bucket and shard, paired when
/// the watermarks pass them), and gives every pair once. Alone in its collection (<see cref="HeapMeasuringCollection"/>).
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class IntervalJoinMemoryBoundTests : IDisposable
{
    private const long Start = 1_767_225_600_000_000; // 2026-01-01 00:00:00
    private const long Hour = 3_600_000_000;
    private const int BatchRows = 8192;
    private const long Budget = 1 << 20;
    /// <summary>What the heap holds beside the state: a batch in and out, a closing bucket's rows, the execution.</summary>
    private const long Slack = 4 << 20;

    private static readonly Schema Input = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false),
        ArrowTypes.Field("v", SqlType.BigInt, false)], null);

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-interval-bound-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    /// <summary>
    /// 80,000 records a side over an hour, 20,000 BIGINT keys scattered, each right record half a second after the left
    /// one of the same number (its only match: a key's records are a quarter of an hour apart), the right watermark half
    /// an hour behind so the left rows wait for it: all in memory they take many times the 1 MB budget; bounded, they
    /// spill, the live heap stays within the budget and the slack, and each record pairs with its own.
    /// </summary>
    [Fact]
    public void An_interval_join_over_far_more_keys_than_its_budget_holds_within_it_and_pairs_every_row_once()
    {
        const int Keys = 20_000;
        const long Records = 4L * Keys;
        string sql = "WATERMARK FOR l.ts AS ts - INTERVAL '1' SECOND;\nWATERMARK FOR r.ts AS ts - INTERVAL '30' MINUTE;\n"
            + "INSERT INTO out SELECT a.v, b.v AS w FROM l a JOIN r b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '2' SECOND AND b.ts + INTERVAL '1' SECOND";
        var program = SqlProgram.Compile(sql, new Dictionary<string, Schema> { ["l"] = Input, ["r"] = Input }, SqlMode.Streaming);
        long rows = 0, wrong = 0, mostLive = 0;
        var seen = new bool[Records];
        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var execution = program.Start(0, batch =>
        {
            rows += batch.Length;
            var vs = Vectors.Values<long>(batch.Column(0));
            var ws = Vectors.Values<long>(batch.Column(1));
            for (int i = 0; i < batch.Length; i++)
            {
                if (vs[i] != ws[i] || seen[vs[i]]) wrong++;
                else seen[vs[i]] = true;
            }
        }, () => Start, new StateOptions { Shards = 2, MemoryBytes = Budget, SpillDirectory = _spill });
        for (long first = 0; first < Records; first += BatchRows)
        {
            int count = (int)Math.Min(BatchRows, Records - first);
            foreach (var (source, offset) in new[] { ("l", 0L), ("r", 500_000L) })
            {
                var ts = Vectors.Allocate<long>(count, out var times);
                var ks = Vectors.Allocate<long>(count, out var keyValues);
                var vs = Vectors.Allocate<long>(count, out var values);
                for (int i = 0; i < count; i++)
                {
                    long r = first + i;
                    (times[i], keyValues[i], values[i]) = (Start + r * Hour / Records + offset, unchecked((r % Keys) * (long)0x9E3779B97F4A7C15), r);
                }
                execution.Push(source, new RecordBatch(Input, [Vectors.Fixed(SqlType.Timestamp, ts, null, count), Vectors.Fixed(SqlType.BigInt, ks, null, count),
                    Vectors.Fixed(SqlType.BigInt, vs, null, count)], count));
                mostLive = Math.Max(mostLive, GC.GetTotalMemory(forceFullCollection: true) - before);
            }
        }
        execution.Finish();
        var use = execution.StateMemoryUse;

        Assert.Equal(Records, rows);
        Assert.Equal(0, wrong);
        Assert.True(use.RunsSpilled >= 5, $"{use.RunsSpilled} runs spilled");
        Assert.True(use.PeakHeld <= 2 * Budget, $"the state held {use.PeakHeld:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.True(mostLive <= Budget + Slack, $"the live heap grew by {mostLive:N0} bytes at most, over a budget of {Budget:N0}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }
}
