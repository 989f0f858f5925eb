using System.Globalization;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// Stream-stream joins over random out-of-order streams against DuckDB's batch join. Each round draws two streams
/// (l and r) whose event times run forward with jitter (mostly within each stream's watermark delay, some beyond it),
/// interleaves their batches at random over up to two partitions each, and runs a random interval join (inner, left,
/// right or full; random bounds, sometimes a residual condition) or window join (two tumbling aggregations joined on
/// window_end and key, any of the four kinds) through our engine, saving its state at a random batch and continuing in
/// a restored execution. The rows must equal DuckDB's join over the records each stream's watermark keeps (windows as
/// epoch arithmetic), and the late count the records those rules drop. SQL_DIFF_SEED=N repeats a run.
/// </summary>
public sealed class JoinsAgainstDuckDbTests(ITestOutputHelper output)
{
    private const int Rounds = 40;
    private const long Second = 1_000_000;
    private const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00

    private static readonly string[] Kinds = ["INNER", "LEFT", "RIGHT", "FULL"];

    private static IReadOnlyList<(string Name, SqlType Type, bool Nullable)> Columns(string value) =>
        [("ts", SqlType.Timestamp, true), ("k", SqlType.Varchar, true), (value, SqlType.Integer, true)];

    private static Schema Schema(string value) => new(Columns(value).Select(c => ArrowTypes.Field(c.Name, c.Type, c.Nullable)), null);

    [Fact]
    public void Stream_joins_are_duckdbs_batch_join_over_the_records_on_time()
    {
        int seed = Environment.GetEnvironmentVariable("SQL_DIFF_SEED") switch { null or "" => 20_261_206, "random" => Random.Shared.Next(), var s => int.Parse(s, CultureInfo.InvariantCulture) };
        output.WriteLine($"seed {seed} (SQL_DIFF_SEED={seed} repeats this run)");
        var random = new Random(seed);
        using var duck = new DuckDbOracle();
        var failures = new List<string>();
        long lateTotal = 0, rowsTotal = 0, unmatchedTotal = 0;
        for (int round = 0; round < Rounds && failures.Count < 5; round++)
        {
            long leftDelay = random.Next(0, 15) * Second, rightDelay = random.Next(0, 15) * Second;
            var left = Batches(random, Records(random, leftDelay), "l");
            var right = Batches(random, Records(random, rightDelay), "r");
            var batches = Interleave(random, left, right);
            var (leftOnTime, leftLate) = OnTime(left, leftDelay);
            var (rightOnTime, rightLate) = OnTime(right, rightDelay);
            lateTotal += leftLate + rightLate;

            string kind = Kinds[random.Next(Kinds.Length)];
            string query;
            string theirs;
            if (random.Next(2) == 0)
            {
                long before = random.Next(0, 10), after = random.Next(0, 10);
                string residual = random.Next(3) == 0 ? " AND l.v < r.w + 3" : "";
                query = $"SELECT l.ts AS l_ts, l.k AS l_k, l.v, r.ts AS r_ts, r.k AS r_k, r.w FROM l {kind} JOIN r "
                    + $"ON l.k = r.k AND l.ts BETWEEN r.ts - INTERVAL '{before}' SECOND AND r.ts + INTERVAL '{after}' SECOND{residual}";
                theirs = query;
            }
            else
            {
                long width = random.Next(2, 30) * Second;
                string Ours(string aggregates, string source) =>
                    $"(SELECT window_start, window_end, k, {aggregates} FROM {source} GROUP BY tumble(INTERVAL '{width / Second} seconds'), k)";
                string Theirs(string aggregates, string source) =>
                    $"(SELECT make_timestamp(epoch_us(ts) // {width} * {width}) AS window_start, make_timestamp(epoch_us(ts) // {width} * {width} + {width}) AS window_end, k, {aggregates} FROM {source} GROUP BY ALL)";
                string select = "SELECT coalesce(a.window_start, b.window_start) AS window_start, a.k AS a_k, a.n, a.s, b.k AS b_k, b.m FROM ";
                string on = " ON a.window_end = b.window_end AND a.k = b.k";
                query = select + Ours("count(*) AS n, sum(v) AS s", "l") + $" a {kind} JOIN " + Ours("max(w) AS m", "r") + " b" + on;
                theirs = select + Theirs("count(*) AS n, sum(v) AS s", "l") + $" a {kind} JOIN " + Theirs("max(w) AS m", "r") + " b" + on;
            }
            string ours = $"WATERMARK FOR l.ts AS ts - INTERVAL '{leftDelay / Second}' SECOND;\nWATERMARK FOR r.ts AS ts - INTERVAL '{rightDelay / Second}' SECOND;\nINSERT INTO out {query}";

            var (rows, lateCounted) = RunOurs(ours, batches, random.Next(batches.Count + 1));
            rowsTotal += rows.Count;
            unmatchedTotal += rows.Count(r => r.Contains("NULL", StringComparison.Ordinal));
            duck.Load("l", Columns("v"), leftOnTime);
            duck.Load("r", Columns("w"), rightOnTime);
            var (expected, error) = duck.Query(theirs);
            string context = $"round {round}: {ours.Replace('\n', ' ')}\n  DuckDB: {theirs}";
            if (error is not null) { failures.Add($"{context}\n  DuckDB failed: {error}"); continue; }
            if (lateCounted != leftLate + rightLate) failures.Add($"{context}\n  {lateCounted} records counted late, {leftLate + rightLate} behind the watermark");
            var a = rows.Order(StringComparer.Ordinal).ToList();
            var b = expected!.Order(StringComparer.Ordinal).ToList();
            if (a.Count != b.Count || a.Zip(b).Any(p => !CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)))
            {
                var missing = b.Except(a).Take(3);
                var extra = a.Except(b).Take(3);
                failures.Add($"{context}\n  {a.Count} rows here, {b.Count} in DuckDB; only DuckDB: {string.Join("; ", missing)}; only here: {string.Join("; ", extra)}");
            }
        }
        output.WriteLine($"{Rounds} rounds, {rowsTotal} joined rows compared ({unmatchedTotal} with NULLs), {lateTotal} late records");
        Assert.True(failures.Count == 0, $"seed {seed}:\n" + string.Join("\n", failures));
        Assert.True(lateTotal > 0, "no round had late records");
        Assert.True(unmatchedTotal > 0 && unmatchedTotal < rowsTotal, "no round had both matched and unmatched rows");
    }

    /// <summary>Records about a second apart, jittered back by up to 1.5 times the delay (and a few far behind).</summary>
    private static List<object?[]> Records(Random random, long delay)
    {
        int n = random.Next(10, 150);
        var records = new List<object?[]>(n);
        string?[] keys = ["a", "b", "c", null];
        for (int i = 0; i < n; i++)
        {
            long jitter = (long)(random.NextDouble() * 1.5 * (delay + Second));
            if (random.Next(40) == 0) jitter += 60 * Second;
            long ts = Start + i * Second - jitter + random.Next(1000);
            records.Add([ts, keys[random.Next(keys.Length)], random.Next(10) == 0 ? null : random.Next(-3, 12)]);
        }
        return records;
    }

    private sealed record Batch(string Source, List<object?[]> Rows, int Partition);

    private static List<Batch> Batches(Random random, List<object?[]> records, string source)
    {
        int partitions = random.Next(1, 3);
        var batches = new List<Batch>();
        for (int i = 0; i < records.Count;)
        {
            int size = Math.Min(records.Count - i, random.Next(1, 20));
            batches.Add(new Batch(source, records.GetRange(i, size), random.Next(partitions)));
            i += size;
        }
        return batches;
    }

    /// <summary>The two streams' batches merged in a random order, each stream's own order kept.</summary>
    private static List<Batch> Interleave(Random random, List<Batch> left, List<Batch> right)
    {
        var all = new List<Batch>();
        int i = 0, j = 0;
        while (i < left.Count || j < right.Count)
            all.Add(j == right.Count || (i < left.Count && random.Next(2) == 0) ? left[i++] : right[j++]);
        return all;
    }

    /// <summary>The watermark's rules replayed for one stream: the records each batch keeps, and how many are late.</summary>
    private static (List<object?[]> OnTime, long Late) OnTime(List<Batch> batches, long delay)
    {
        var max = new Dictionary<int, long>();
        long watermark = long.MinValue, late = 0;
        var onTime = new List<object?[]>();
        foreach (var batch in batches)
        {
            foreach (var row in batch.Rows)
            {
                long ts = (long)row[0]!;
                max[batch.Partition] = Math.Max(max.GetValueOrDefault(batch.Partition, long.MinValue), ts);
                if (ts < watermark) late++;
                else onTime.Add(row);
            }
            watermark = Math.Max(watermark, max.Values.Min() - delay);
        }
        return (onTime, late);
    }

    private static (List<string> Rows, long Late) RunOurs(string sql, List<Batch> batches, int cut)
    {
        var sources = new Dictionary<string, Schema> { ["l"] = Schema("v"), ["r"] = Schema("w") };
        var program = SqlProgram.Compile(sql, sources, SqlMode.Streaming);
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var execution = program.Start((_, b) => rows.AddRange(RowText.Rows([b], types)), () => Start);
        long late = 0;
        for (int i = 0; i < batches.Count; i++)
        {
            if (i == cut)
            {
                late += LateCount(execution.Errors);
                var state = new MemoryStream();
                execution.SaveState(state);
                state.Position = 0;
                execution = SqlProgram.Compile(sql, sources, SqlMode.Streaming).Start((_, b) => rows.AddRange(RowText.Rows([b], types)), () => Start);
                execution.RestoreState(state);
            }
            var batch = batches[i];
            var columns = Columns(batch.Source == "l" ? "v" : "w");
            var arrays = columns.Select((c, j) => ValueArrays.FromValues(c.Type, batch.Rows.Select(r => r[j]).ToList())).ToArray();
            execution.Push(batch.Source, new RecordBatch(sources[batch.Source], arrays, batch.Rows.Count), batch.Partition);
        }
        execution.Finish();
        return (rows, late + LateCount(execution.Errors));
    }

    private static long LateCount(RowErrorLog log) => log.Snapshot().Where(e => e.Reason.Code == "late").Sum(e => e.Count);
}
