using System.Globalization;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// Windows over random out-of-order streams against DuckDB's batch answer. Each round draws records whose event
/// times run forward with jitter (mostly within the watermark delay, some beyond it), cuts them into batches of
/// random sizes spread over partitions, and runs a random tumble, hop or session aggregation through our engine,
/// saving its state at a random batch and continuing in a restored execution. Which records are on time follows
/// from the watermark's rules (per partition the largest time minus the delay, the minimum over partitions seen,
/// never back), replayed here: the late count must equal the records that rule drops, and the windowed rows must
/// equal DuckDB's GROUP BY over the on-time records (windows in plain SQL: epoch arithmetic for tumble and hop,
/// lag and a running sum for sessions). SQL_DIFF_SEED=N repeats a run, SQL_DIFF_SEED=random explores.
/// </summary>
public sealed class WindowsAgainstDuckDbTests(ITestOutputHelper output)
{
    private const int Rounds = 40;
    private const long Second = 1_000_000;
    private const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00

    private static readonly Schema Schema = new([
        ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true),
        ArrowTypes.Field("v", SqlType.Integer, true), ArrowTypes.Field("x", SqlType.Double, true)], null);

    internal static readonly IReadOnlyList<(string Name, SqlType Type, bool Nullable)> Columns =
        [("ts", SqlType.Timestamp, true), ("k", SqlType.Varchar, true), ("v", SqlType.Integer, true), ("x", SqlType.Double, true)];

    /// <summary>Our aggregate, and DuckDB's for the same answer (ordered ones by event time, as windows order them).</summary>
    private static readonly (string Ours, string Theirs)[] Aggregates =
    [
        ("count(*)", "count(*)"), ("count(v)", "count(v)"), ("sum(v)", "sum(v)"), ("min(v)", "min(v)"), ("max(k)", "max(k)"),
        ("avg(x)", "avg(x)"), ("count(DISTINCT v)", "count(DISTINCT v)"), ("sum(DISTINCT v)", "sum(DISTINCT v)"),
        ("bool_or(v > 5)", "bool_or(v > 5)"), ("bool_and(x > 0)", "bool_and(x > 0)"), ("stddev_pop(x)", "stddev_pop(x)"),
        ("var_samp(v)", "var_samp(v)"), ("first_value(v)", "first(v ORDER BY ts)"), ("last_value(x)", "last(x ORDER BY ts)"),
        ("array_agg(v)", "array_agg(v ORDER BY ts)"), ("count(*) FILTER (WHERE v % 2 = 0)", "count(*) FILTER (WHERE v % 2 = 0)"),
        ("max(x) FILTER (WHERE k IS NOT NULL)", "max(x) FILTER (WHERE k IS NOT NULL)"), ("approx_percentile(v, 0.5)", "quantile_disc(v, 0.5)::DOUBLE"),
    ];

    [Fact]
    public void Windowed_results_are_duckdbs_batch_answer_over_the_records_on_time()
    {
        int seed = Environment.GetEnvironmentVariable("SQL_DIFF_SEED") switch { null or "" => 20_261_205, "random" => Random.Shared.Next(), var s => int.Parse(s, CultureInfo.InvariantCulture) };
        output.WriteLine($"seed {seed} (SQL_DIFF_SEED={seed} repeats this run)");
        var random = new Random(seed);
        using var duck = new DuckDbOracle();
        var failures = new List<string>();
        long lateTotal = 0, rowsTotal = 0;
        for (int round = 0; round < Rounds && failures.Count < 5; round++)
        {
            long delay = random.Next(0, 20) * Second;
            var records = Records(random, delay);
            var batches = Batches(random, records);
            var (onTime, late) = OnTime(batches, delay);
            lateTotal += late;

            var (window, theirWindow) = Window(random);
            bool keyed = random.Next(3) > 0;
            var aggregates = Enumerable.Range(0, random.Next(1, 5)).Select(_ => Aggregates[random.Next(Aggregates.Length)]).ToList();
            string ours = $"WATERMARK FOR ts AS ts - INTERVAL '{delay / Second}' SECOND;\n"
                + $"INSERT INTO out SELECT window_start, window_end{(keyed ? ", k" : "")}, {string.Join(", ", aggregates.Select((a, i) => $"{a.Ours} AS a{i}"))} "
                + $"FROM input GROUP BY {window}{(keyed ? ", k" : "")}";
            string theirs = theirWindow(keyed, string.Join(", ", aggregates.Select((a, i) => $"{a.Theirs} AS a{i}")));

            var (rows, lateCounted) = RunOurs(ours, batches, random.Next(batches.Count + 1));
            rowsTotal += rows.Count;
            duck.Load("t", Columns, onTime);
            var (expected, error) = duck.Query(theirs);
            string context = $"round {round}: {ours.Replace('\n', ' ')}\n  DuckDB: {theirs}";
            if (error is not null) { failures.Add($"{context}\n  DuckDB failed: {error}"); continue; }
            if (lateCounted != late) failures.Add($"{context}\n  {lateCounted} records counted late, {late} behind the watermark");
            var a = rows.Order(StringComparer.Ordinal).ToList();
            var b = expected!.Order(StringComparer.Ordinal).ToList();
            if (a.Count != b.Count || a.Zip(b).Any(p => !CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)))
            {
                var missing = b.Except(a).Take(3);
                var extra = a.Except(b).Take(3);
                failures.Add($"{context}\n  {a.Count} rows here, {b.Count} in DuckDB; only DuckDB: {string.Join("; ", missing)}; only here: {string.Join("; ", extra)}");
            }
        }
        output.WriteLine($"{Rounds} rounds, {rowsTotal} window rows compared, {lateTotal} late records");
        Assert.True(failures.Count == 0, $"seed {seed}:\n" + string.Join("\n", failures));
        Assert.True(lateTotal > 0, "no round had late records");
    }

    /// <summary>A window of ours and the DuckDB query that computes the same rows (the on-time records are table t).</summary>
    private static (string Ours, Func<bool, string, string> Theirs) Window(Random random)
    {
        switch (random.Next(3))
        {
            case 0:
            {
                long width = random.Next(1, 30) * Second;
                return ($"tumble(INTERVAL '{width / Second} seconds')", (keyed, aggs) =>
                    $"SELECT make_timestamp(epoch_us(ts) // {width} * {width}) AS ws, make_timestamp(epoch_us(ts) // {width} * {width} + {width}) AS we{(keyed ? ", k" : "")}, {aggs} "
                    + $"FROM t GROUP BY ws, we{(keyed ? ", k" : "")}");
            }
            case 1:
            {
                long slide = random.Next(1, 15) * Second;
                long width = slide * random.Next(1, 4) + (random.Next(2) == 0 ? 0 : random.Next(1, 10) * Second);
                long copies = (width + slide - 1) / slide + 1;
                return ($"hop(INTERVAL '{slide / Second} seconds', INTERVAL '{width / Second} seconds')", (keyed, aggs) =>
                    $"SELECT make_timestamp(s) AS ws, make_timestamp(s + {width}) AS we{(keyed ? ", k" : "")}, {aggs} FROM "
                    + $"(SELECT *, (epoch_us(ts) // {slide} - j) * {slide} AS s FROM t, range(0, {copies}) r(j)) "
                    + $"WHERE epoch_us(ts) < s + {width} GROUP BY s{(keyed ? ", k" : "")}");
            }
            default:
            {
                long gap = random.Next(1, 20) * Second;
                return ($"session(INTERVAL '{gap / Second} seconds')", (keyed, aggs) => Sessions(gap, keyed, aggs));
            }
        }
    }

    /// <summary>Session windows of table t in plain SQL: a record more than the gap after its key's previous one starts a session.</summary>
    internal static string Sessions(long gap, bool keyed, string aggregates) =>
        $"SELECT min(ts) AS ws, max(ts) + INTERVAL '{gap / Second} seconds' AS we{(keyed ? ", k" : "")}, {aggregates} FROM "
        + $"(SELECT *, sum(new) OVER (PARTITION BY {(keyed ? "k" : "1")} ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session FROM "
        + $"(SELECT *, CASE WHEN epoch_us(ts) - lag(epoch_us(ts)) OVER (PARTITION BY {(keyed ? "k" : "1")} ORDER BY ts) < {gap} THEN 0 ELSE 1 END AS new FROM t)) "
        + $"GROUP BY session{(keyed ? ", k" : "")}";

    /// <summary>Records with times running forward about a second each, jittered back by up to 1.5 times the delay (and a few far behind).</summary>
    internal static List<object?[]> Records(Random random, long delay)
    {
        int n = random.Next(20, 300);
        var records = new List<object?[]>(n);
        string?[] keys = ["a", "b", "c", "ü", null];
        for (int i = 0; i < n; i++)
        {
            long jitter = (long)(random.NextDouble() * 1.5 * (delay + Second));
            if (random.Next(40) == 0) jitter += 60 * Second;
            long ts = Start + i * Second - jitter + i; // + i: no two records share a time, so event-time order is total
            records.Add([ts, keys[random.Next(keys.Length)], random.Next(8) == 0 ? null : random.Next(-3, 12),
                random.Next(8) == 0 ? null : Math.Round(random.NextDouble() * 20 - 5, 2)]);
        }
        return records;
    }

    internal static List<(List<object?[]> Rows, int Partition)> Batches(Random random, List<object?[]> records)
    {
        int partitions = random.Next(1, 4);
        var batches = new List<(List<object?[]>, int)>();
        for (int i = 0; i < records.Count;)
        {
            int size = Math.Min(records.Count - i, random.Next(1, 25));
            batches.Add((records.GetRange(i, size), random.Next(partitions)));
            i += size;
        }
        return batches;
    }

    /// <summary>The watermark's rules replayed: the records each batch keeps, and how many are late.</summary>
    internal static (List<object?[]> OnTime, long Late) OnTime(List<(List<object?[]> Rows, int Partition)> batches, long delay)
    {
        var max = new Dictionary<int, long>();
        long watermark = long.MinValue, late = 0;
        var onTime = new List<object?[]>();
        foreach (var (rows, partition) in batches)
        {
            foreach (var row in rows)
            {
                long ts = (long)row[0]!;
                max[partition] = Math.Max(max.GetValueOrDefault(partition, long.MinValue), ts);
                if (ts < watermark) late++;
                else onTime.Add(row);
            }
            watermark = Math.Max(watermark, max.Values.Min() - delay);
        }
        return (onTime, late);
    }

    internal static (List<string> Rows, long Late) RunOurs(string sql, List<(List<object?[]> Rows, int Partition)> batches, int cut)
    {
        var sources = new Dictionary<string, Schema> { ["input"] = Schema };
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
            var (batchRows, partition) = batches[i];
            var arrays = Columns.Select((c, j) => ValueArrays.FromValues(c.Type, batchRows.Select(r => r[j]).ToList())).ToArray();
            execution.Push("input", new RecordBatch(Schema, arrays, batchRows.Count), partition);
        }
        execution.Finish();
        return (rows, late + LateCount(execution.Errors));
    }

    private static long LateCount(RowErrorLog log) => log.Snapshot().Where(e => e.Reason.Code == "late").Sum(e => e.Count);
}
