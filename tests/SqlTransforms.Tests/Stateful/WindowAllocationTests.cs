using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Windowed aggregation allocates per batch and per new key, never per record: finding a row's group encodes its key
/// into a reused buffer and probes one arena; the accumulators update unboxed arrays. A deduplication keeping the
/// latest row per key gives the displaced row's bytes to the new one.
/// </summary>
public sealed class WindowAllocationTests
{
    private static readonly Schema Events = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false),
        ArrowTypes.Field("s", SqlType.Varchar, false), ArrowTypes.Field("v", SqlType.Double, false)], null);

    [Theory]
    [InlineData("tumble(INTERVAL '1 minute')", "count(*) AS n, sum(v) AS total, min(v) AS lo, max(s) AS hi, avg(v) AS mean", 1)]
    [InlineData("hop(INTERVAL '10 seconds', INTERVAL '1 minute')", "count(*) AS n, sum(v) AS total, stddev(v) AS sd", 1)]
    [InlineData("session(INTERVAL '30 seconds')", "count(*) AS n, max(v) AS hi, bool_or(v > 10) AS big, first_value(v) AS f", 1)]
    // As a pipeline holds its state by default: within a budget, in shards (a batch's rows then go to several panes and
    // shards, gathered a part at a time)
    [InlineData("tumble(INTERVAL '1 minute')", "count(*) AS n, sum(v) AS total, min(v) AS lo, max(s) AS hi, avg(v) AS mean, first_value(v) AS f", 4)]
    [InlineData("hop(INTERVAL '10 seconds', INTERVAL '1 minute')", "count(*) AS n, sum(v) AS total, stddev(v) AS sd, last_value(k) AS l", 4)]
    public void Records_cost_no_allocation_once_their_keys_are_known(string window, string aggregates, int shards)
    {
        const int rows = 4096, keys = 64;
        var sql = $"WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE;\nINSERT INTO out SELECT window_start, k, s, {aggregates} FROM events GROUP BY {window}, k, s";
        // the same keys in every batch, all within one minute of event time, so no window closes while measuring
        var (perRecord, emitted) = Measure(sql, rows, keys, shards == 1 ? null : new StateOptions { Shards = shards, MemoryBytes = 256L << 20 });
        Assert.True(perRecord < 4, $"{perRecord} bytes allocated per record");
        Assert.True(emitted >= keys);
    }

    [Fact]
    public void Deduplication_keeping_the_latest_row_per_key_costs_no_allocation_per_record()
    {
        const int rows = 4096, keys = 64;
        var sql = "WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE;\nINSERT INTO out SELECT * FROM (SELECT *, row_number() OVER "
            + "(PARTITION BY tumble(INTERVAL '1 minute'), k ORDER BY ts DESC) AS rn FROM events) WHERE rn <= 1";
        // every record is later than the one kept for its key, so each displaces it
        var (perRecord, emitted) = Measure(sql, rows, keys);
        Assert.True(perRecord < 4, $"{perRecord} bytes allocated per record");
        Assert.Equal(keys, emitted);
    }

    /// <summary>Pushes 20 batches of the same keys; answers the bytes allocated per record after the first batch, and the rows emitted by the end.</summary>
    private static (long PerRecord, long Emitted) Measure(string sql, int rows, int keys, StateOptions? state = null)
    {
        var program = SqlProgram.Compile(sql, new Dictionary<string, Schema> { ["events"] = Events }, SqlMode.Streaming);
        long emitted = 0;
        using var execution = program.Start((_, b) => emitted += b.Length, () => 0, state);
        var batches = Enumerable.Range(0, 20).Select(b => Batch(rows, keys, b)).ToList();
        execution.Push("events", batches[0]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int b = 1; b < batches.Count; b++) execution.Push("events", batches[b]);
        long perRecord = (GC.GetAllocatedBytesForCurrentThread() - before) / ((batches.Count - 1) * rows);
        execution.Finish();
        return (perRecord, emitted);
    }

    private static RecordBatch Batch(int rows, int keys, int batch)
    {
        var ts = new object?[rows];
        var k = new object?[rows];
        var s = new object?[rows];
        var v = new object?[rows];
        for (int i = 0; i < rows; i++)
        {
            ts[i] = 1_704_067_200_000_000L + (batch * rows + i) * 500L; // 2 ms apart: 20 batches span 41 seconds
            k[i] = (long)(i % keys);
            s[i] = "key " + (i % keys % 7);
            v[i] = i * 0.5;
        }
        return new RecordBatch(Events, [ValueArrays.FromValues(SqlType.Timestamp, ts), ValueArrays.FromValues(SqlType.BigInt, k),
            ValueArrays.FromValues(SqlType.Varchar, s), ValueArrays.FromValues(SqlType.Double, v)], rows);
    }
}
