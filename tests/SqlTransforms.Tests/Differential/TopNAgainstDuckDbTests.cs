using System.Globalization;
using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// Top-N and deduplication per window over random out-of-order streams against DuckDB's batch answer: the streams of
/// <see cref="WindowsAgainstDuckDbTests"/> (jittered times, some beyond the watermark's delay, batches over up to three
/// partitions, a snapshot and restore at a random batch), ranked by row_number, rank or dense_rank per tumble or hop
/// window, over the records themselves or over a windowed count, filtered to a random N. DuckDB computes the same
/// windows in plain SQL over the records the watermark keeps and ranks them with QUALIFY. Rows tied in the order may
/// take their row numbers either way round, so the columns compared are the window, the partition key, the ordered
/// value and the number, which ties cannot change (or the whole row where the order is the unique event time).
/// SQL_DIFF_SEED=N repeats a run, SQL_DIFF_SEED=random explores.
/// </summary>
public sealed class TopNAgainstDuckDbTests(ITestOutputHelper output)
{
    private const int Rounds = 40;
    private const long Second = 1_000_000;

    [Fact]
    public void Top_n_per_window_is_duckdbs_qualify_over_the_records_on_time()
    {
        int seed = Environment.GetEnvironmentVariable("SQL_DIFF_SEED") switch { null or "" => 20_261_206, "random" => Random.Shared.Next(), var s => int.Parse(s, CultureInfo.InvariantCulture) };
        output.WriteLine($"seed {seed} (SQL_DIFF_SEED={seed} repeats this run)");
        var random = new Random(seed);
        using var duck = new DuckDbOracle();
        var failures = new List<string>();
        long lateTotal = 0, rowsTotal = 0, rewritesWrong = 0;
        for (int round = 0; round < Rounds && failures.Count < 5; round++)
        {
            long delay = random.Next(0, 20) * Second;
            var records = WindowsAgainstDuckDbTests.Records(random, delay);
            var batches = WindowsAgainstDuckDbTests.Batches(random, records);
            var (onTime, late) = WindowsAgainstDuckDbTests.OnTime(batches, delay);
            lateTotal += late;

            var (window, windowed) = Window(random);
            string function = new[] { "row_number", "rank", "dense_rank" }[random.Next(3)];
            int n = random.Next(1, 5);
            bool keyed = random.Next(3) > 0;
            string ours, theirs;
            if (random.Next(2) == 0)
            {
                // over the records: ordered by a value (ties and NULLs), or by the event time (first or last record)
                bool byTime = random.Next(3) == 0;
                string order = byTime ? (random.Next(2) == 0 ? "ts" : "ts DESC") : $"v {(random.Next(2) == 0 ? "DESC" : "ASC")} NULLS {(random.Next(2) == 0 ? "FIRST" : "LAST")}";
                string columns = byTime ? "window_start, window_end, ts, k, v, x" : $"window_start, window_end{(keyed ? ", k" : "")}, v";
                ours = $"SELECT {columns}, rn FROM (SELECT *, {function}() OVER (PARTITION BY {window}{(keyed ? ", k" : "")} ORDER BY {order}) AS rn FROM input) WHERE rn <= {n}";
                theirs = $"SELECT {columns.Replace("window_start", "ws", StringComparison.Ordinal).Replace("window_end", "we", StringComparison.Ordinal)}, "
                    + $"{function}() OVER (PARTITION BY ws{(keyed ? ", k" : "")} ORDER BY {order}) AS rn FROM ({windowed}) QUALIFY rn <= {n}";
            }
            else
            {
                // over a windowed count per key: the keys with the most records per window
                ours = $"SELECT window_start, n, rn FROM (SELECT *, {function}() OVER (PARTITION BY window_start ORDER BY n DESC) AS rn "
                    + $"FROM (SELECT window_start, k, count(*) AS n FROM input GROUP BY {window}, k)) WHERE {n} >= rn";
                theirs = $"SELECT ws, n, {function}() OVER (PARTITION BY ws ORDER BY n DESC) AS rn FROM (SELECT ws, k, count(*) AS n FROM ({windowed}) GROUP BY ws, k) QUALIFY rn <= {n}";
            }
            string sql = $"WATERMARK FOR ts AS ts - INTERVAL '{delay / Second}' SECOND;\nINSERT INTO out {ours}";
            var (rows, lateCounted) = WindowsAgainstDuckDbTests.RunOurs(sql, batches, random.Next(batches.Count + 1));
            rowsTotal += rows.Count;
            duck.Load("t", WindowsAgainstDuckDbTests.Columns, onTime);
            var (expected, error) = duck.Query(theirs);
            string context = $"round {round}: {sql.Replace('\n', ' ')}\n  DuckDB: {theirs}";
            if (error is not null) { failures.Add($"{context}\n  DuckDB failed: {error}"); continue; }
            if (lateCounted != late) failures.Add($"{context}\n  {lateCounted} records counted late, {late} behind the watermark");
            var a = rows.Order(StringComparer.Ordinal).ToList();
            var b = expected!.Order(StringComparer.Ordinal).ToList();
            if (!Same(a, b))
            {
                // IntendedDifferences.DuckDbTopNRewrite: DuckDB's answer without its top-N rewrite, which is wrong in some queries
                var (plain, plainError) = duck.QueryWithout("top_n_window_elimination", theirs);
                if (plainError is null && Same(a, plain!.Order(StringComparer.Ordinal).ToList())) { rewritesWrong++; continue; }
                failures.Add($"{context}\n  {a.Count} rows here, {b.Count} in DuckDB; only DuckDB: {string.Join("; ", b.Except(a).Take(3))}; only here: {string.Join("; ", a.Except(b).Take(3))}");
            }
        }
        output.WriteLine($"{Rounds} rounds, {rowsTotal} ranked rows compared, {lateTotal} late records, {rewritesWrong} rounds where DuckDB's top-N rewrite was wrong");
        Assert.True(failures.Count == 0, $"seed {seed}:\n" + string.Join("\n", failures));
        Assert.True(lateTotal > 0, "no round had late records");
        Assert.True(rowsTotal > Rounds, "the rounds ranked almost nothing");
    }

    private static bool Same(List<string> a, List<string> b) =>
        a.Count == b.Count && a.Zip(b).All(p => CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second));

    /// <summary>A window of ours, and DuckDB's rows of table t each with its window's ws and we (a hop window's record once per window).</summary>
    private static (string Ours, string Windowed) Window(Random random)
    {
        if (random.Next(2) == 0)
        {
            long width = random.Next(1, 30) * Second;
            return ($"tumble(INTERVAL '{width / Second} seconds')",
                $"SELECT *, make_timestamp(epoch_us(ts) // {width} * {width}) AS ws, make_timestamp(epoch_us(ts) // {width} * {width} + {width}) AS we FROM t");
        }
        long slide = random.Next(1, 15) * Second;
        long hopWidth = slide * random.Next(1, 4) + (random.Next(2) == 0 ? 0 : random.Next(1, 10) * Second);
        long copies = (hopWidth + slide - 1) / slide + 1;
        return ($"hop(INTERVAL '{slide / Second} seconds', INTERVAL '{hopWidth / Second} seconds')",
            $"SELECT * EXCLUDE (j, s), make_timestamp(s) AS ws, make_timestamp(s + {hopWidth}) AS we FROM "
            + $"(SELECT *, (epoch_us(ts) // {slide} - j) * {slide} AS s FROM t, range(0, {copies}) r(j)) WHERE epoch_us(ts) < s + {hopWidth}");
    }
}
