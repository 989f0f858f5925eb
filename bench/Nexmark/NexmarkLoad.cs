using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.State;
using DuckDB.NET.Data;

namespace DataPlane.Benchmarks.Nexmark;

/// <summary>
/// Nexmark queries on the SQL engine against DuckDB's batch answer over the same events, in one run.
/// <c>dotnet run -c Release --project bench -- nexmark [events] [--queries q0,q3,...] [--explain]</c>. The events are generated
/// once (<see cref="NexmarkGenerator"/>) into Arrow batches of <see cref="BatchEvents"/> events, split into the
/// person, auction and bid streams, and loaded into DuckDB tables of the same types through its appender, all before
/// any timing. Each query runs once cold, then <see cref="WarmRuns"/> times; the figures are events of the whole
/// sequence per CPU-second of the process (Nexmark's "per core" measure) and the ratio to DuckDB's, which runs on one
/// thread as a pipeline does and must compute every output column (it takes each column's min). An untimed run then
/// checks that both give the same rows (<see cref="RowChecksum"/>): a mismatch fails the run with exit code 1.
/// </summary>
internal static class NexmarkLoad
{
    private const int BatchEvents = 65_536;
    private const int WarmRuns = 3;

    /// <summary>The queries the engine can run today, in the reference's wording with our column names.</summary>
    private static readonly Dictionary<string, NexmarkQuery> Queries = new()
    {
        ["q0"] = new("pass-through", "SELECT auction, bidder, price, datetime, extra FROM bid"),
        ["q1"] = new("currency conversion", "SELECT auction, bidder, 0.908 * price AS price, datetime, extra FROM bid"),
        ["q2"] = new("selection", "SELECT auction, price FROM bid WHERE auction % 123 = 0"),
        // q18 and q19 rank per auction over the whole stream in the reference (an updating result); here per 10-second
        // window of event time, as Flink's window deduplication and window top-N do, appended when each window closes
        // The reference joins the two streams without a bound, keeping every person forever; a stream join here needs
        // one. The generator's sellers are among the last 1,000 persons (5 s of event time) or the next 10 (50 ms), so
        // this interval join gives every row of the unbounded one with state bounded by 11 s of persons and auctions.
        ["q3"] = new("local item suggestion: person x auction, interval join",
            "SELECT p.name, p.city, p.state, a.id FROM auction AS a JOIN person AS p ON a.seller = p.id "
            + "AND p.datetime BETWEEN a.datetime - INTERVAL '10' SECOND AND a.datetime + INTERVAL '1' SECOND "
            + "WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')")
        {
            Watermark = AllWatermarks,
            DuckDb = "SELECT p.name, p.city, p.state, a.id FROM auction AS a JOIN person AS p ON a.seller = p.id "
                + "WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')",
        },
        // The reference's closing price is an updating result over each auction's whole life, averaged per category
        // over the whole stream. Here per 10-second window of the auctions' opening time: the highest bid within the
        // auction's life (an interval join bounded by the generator's longest auction, under 1 s; expires as a residual),
        // then the average of those per category and window, appended when the window closes.
        ["q4"] = new("average closing price per category, per 10 s window of opening",
            "SELECT category, window_start, avg(final) AS average FROM ("
            + "SELECT a.id, a.category, max(b.price) AS final, window_start AS datetime FROM auction AS a JOIN bid AS b "
            + "ON a.id = b.auction AND b.datetime BETWEEN a.datetime AND a.datetime + INTERVAL '1' SECOND AND b.datetime <= a.expires "
            + "GROUP BY a.id, a.category, tumble(INTERVAL '10' SECOND)) "
            + "GROUP BY category, tumble(INTERVAL '10' SECOND)")
        {
            Watermark = AllWatermarks,
            DuckDb = "SELECT category, window_start, avg(final) AS average FROM ("
                + "SELECT a.id, a.category, max(b.price) AS final, time_bucket(INTERVAL '10 seconds', a.datetime) AS window_start "
                + "FROM auction AS a JOIN bid AS b ON a.id = b.auction AND b.datetime BETWEEN a.datetime AND a.expires "
                + "GROUP BY a.id, a.category, window_start) GROUP BY category, window_start",
        },
        // The reference joins each auction's count per window with the window's largest count; rank() keeps the same rows
        ["q5"] = new("hot items: most bids per 10 s window every 2 s, hop",
            "SELECT auction, num, window_start, window_end FROM ("
            + "SELECT *, rank() OVER (PARTITION BY window_start ORDER BY num DESC) AS rn FROM ("
            + "SELECT auction, count(*) AS num, window_start, window_end FROM bid GROUP BY auction, hop(INTERVAL '2' SECOND, INTERVAL '10' SECOND))) "
            + "WHERE rn <= 1")
        {
            Watermark = BidWatermark,
            DuckDb = "WITH counts AS (SELECT auction, count(*) AS num, window_start FROM ("
                + "SELECT auction, (epoch_us(datetime) // 2000000 - k) * 2000000 AS window_start FROM bid, range(5) AS r(k)) GROUP BY auction, window_start), "
                + "maxes AS (SELECT window_start, max(num) AS maxn FROM counts GROUP BY window_start) "
                + "SELECT c.auction, c.num, make_timestamp(c.window_start) AS window_start, make_timestamp(c.window_start + 10000000) AS window_end "
                + "FROM counts AS c JOIN maxes AS m ON c.window_start = m.window_start AND c.num >= m.maxn",
        },
        // The reference joins the bids with each window's max(price); rank() per tumble keeps the same rows in one pass
        ["q7"] = new("highest bid per 10 s window, tumble",
            "SELECT auction, price, bidder, datetime, extra FROM ("
            + "SELECT *, rank() OVER (PARTITION BY tumble(INTERVAL '10 seconds') ORDER BY price DESC) AS rn FROM bid) WHERE rn <= 1")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT b.auction, b.price, b.bidder, b.datetime, b.extra FROM bid AS b JOIN ("
                + "SELECT max(price) AS maxprice, time_bucket(INTERVAL '10 seconds', datetime) AS window_start FROM bid GROUP BY window_start) AS m "
                + "ON b.price = m.maxprice AND time_bucket(INTERVAL '10 seconds', b.datetime) = m.window_start",
        },
        ["q8"] = new("monitor new users: persons x sellers per 10 s window, window join",
            "SELECT p.id, p.name, p.starttime FROM ("
            + "SELECT id, name, window_start AS starttime, window_end AS endtime FROM person GROUP BY id, name, tumble(INTERVAL '10' SECOND)) AS p "
            + "JOIN (SELECT seller, window_start AS starttime, window_end AS endtime FROM auction GROUP BY seller, tumble(INTERVAL '10' SECOND)) AS a "
            + "ON p.id = a.seller AND p.starttime = a.starttime AND p.endtime = a.endtime")
        {
            Watermark = AllWatermarks,
            DuckDb = "SELECT p.id, p.name, p.starttime FROM ("
                + "SELECT id, name, time_bucket(INTERVAL '10 seconds', datetime) AS starttime FROM person GROUP BY id, name, starttime) AS p "
                + "JOIN (SELECT seller, time_bucket(INTERVAL '10 seconds', datetime) AS starttime FROM auction GROUP BY seller, starttime) AS a "
                + "ON p.id = a.seller AND p.starttime = a.starttime",
        },
        ["q11"] = new("user sessions: bids per bidder and 10 s session, session window",
            "SELECT bidder, count(*) AS bid_count, window_start, window_end FROM bid GROUP BY bidder, session(INTERVAL '10' SECOND)")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT bidder, count(*) AS bid_count, min(datetime) AS window_start, max(datetime) + INTERVAL '10 seconds' AS window_end FROM ("
                + "SELECT *, sum(new) OVER (PARTITION BY bidder ORDER BY datetime ROWS UNBOUNDED PRECEDING) AS session FROM ("
                + "SELECT bidder, datetime, CASE WHEN epoch_us(datetime) - lag(epoch_us(datetime)) OVER (PARTITION BY bidder ORDER BY datetime) < 10000000 THEN 0 ELSE 1 END AS new FROM bid)) "
                + "GROUP BY bidder, session",
        },
        // Ties (bids of one millisecond, equal prices) go to the earlier arrival here, to the lower rowid in DuckDB: the same bid
        ["q18"] = new("dedup: last bid per bidder and auction, per 10 s window",
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '10 seconds'), bidder, auction ORDER BY datetime DESC) AS rank_number FROM bid) WHERE rank_number <= 1")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT * FROM (SELECT *, " + DuckDbWindow + "row_number() OVER (PARTITION BY time_bucket(INTERVAL '10 seconds', datetime), bidder, auction ORDER BY datetime DESC, rowid) AS rank_number FROM bid) WHERE rank_number <= 1",
        },
        ["q19"] = new("top-N: 10 highest bids per auction, per 10 s window",
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '10 seconds'), auction ORDER BY price DESC) AS rank_number FROM bid) WHERE rank_number <= 10")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT * FROM (SELECT *, " + DuckDbWindow + "row_number() OVER (PARTITION BY time_bucket(INTERVAL '10 seconds', datetime), auction ORDER BY price DESC, rowid) AS rank_number FROM bid) WHERE rank_number <= 10",
        },
        // The issue's target for a plain keyed tumbling aggregation: at least 1M records/s per core
        ["tumble"] = new("keyed tumbling count and sum: bids per auction per 10 s window",
            "SELECT auction, count(*) AS bids, sum(price) AS total, window_start, window_end FROM bid GROUP BY auction, tumble(INTERVAL '10' SECOND)")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT auction, count(*) AS bids, sum(price) AS total, time_bucket(INTERVAL '10 seconds', datetime) AS window_start, "
                + "time_bucket(INTERVAL '10 seconds', datetime) + INTERVAL '10 seconds' AS window_end FROM bid GROUP BY auction, window_start",
        },
    };

    /// <summary>The window_start and window_end columns the engine adds after the stream's where it assigns windows.</summary>
    private const string DuckDbWindow =
        "time_bucket(INTERVAL '10 seconds', datetime) AS window_start, time_bucket(INTERVAL '10 seconds', datetime) + INTERVAL '10 seconds' AS window_end, ";

    /// <summary>Bids arrive in event-time order (the generator's clock only moves forward), so the watermark needs no delay.</summary>
    private const string BidWatermark = "WATERMARK FOR bid.datetime AS datetime;\n";

    /// <summary>Each stream's event time, for the queries that read two (each stream's clock only moves forward too).</summary>
    private const string AllWatermarks = "WATERMARK FOR person.datetime AS datetime;\nWATERMARK FOR auction.datetime AS datetime;\nWATERMARK FOR bid.datetime AS datetime;\n";

    /// <summary>A query: ours, the statement declaring its event time, and DuckDB's wording where it differs (time_bucket for our windows).</summary>
    private sealed record NexmarkQuery(string Description, string Sql)
    {
        public string Watermark { get; init; } = "";
        public string? DuckDb { get; init; }
    }

    public static Task<int> RunAsync(string[] args)
    {
        long events = args.Length > 1 && long.TryParse(args[1], CultureInfo.InvariantCulture, out long n) ? n : 10_000_000;
        string[] selected = args.SkipWhile(a => a != "--queries").Skip(1).FirstOrDefault()?.Split(',') ?? [.. Queries.Keys];
        foreach (string q in selected)
            if (!Queries.ContainsKey(q))
            {
                Console.Error.WriteLine($"unknown query '{q}'; known: {string.Join(", ", Queries.Keys)}");
                return Task.FromResult(2);
            }

        // --state-budget MB: the state as a pipeline holds it by default (DATAPLANE_PIPELINES__STATEMEMORYBYTES, 256), in
        // --shards N shards (default one per core, as a pipeline's), counted against the budget and spilled past it;
        // without, all in memory in one shard.
        string? budgetArg = args.SkipWhile(a => a != "--state-budget").Skip(1).FirstOrDefault();
        string? shardsArg = args.SkipWhile(a => a != "--shards").Skip(1).FirstOrDefault();
        string spill = Path.Combine(Path.GetTempPath(), "dataplane-bench-nexmark-spill");
        var state = budgetArg is null ? StateOptions.InMemory : new StateOptions
        {
            MemoryBytes = long.Parse(budgetArg, CultureInfo.InvariantCulture) * 1024 * 1024,
            Shards = shardsArg is null ? Environment.ProcessorCount : int.Parse(shardsArg, CultureInfo.InvariantCulture),
            SpillDirectory = spill,
        };
        if (budgetArg is not null) Directory.CreateDirectory(spill);

        Console.WriteLine($"# Nexmark, {events:N0} events ({Environment.ProcessorCount} cores, load average {LoadAverage()}), state " +
            (budgetArg is null ? "all in memory, one shard" : $"budget {budgetArg} MB, {state.Shards} shards"));
        var generator = new NexmarkGenerator(new NexmarkConfig());
        var persons = new List<RecordBatch>();
        var auctions = new List<RecordBatch>();
        var bids = new List<RecordBatch>();
        var clock = Stopwatch.StartNew();
        for (long first = 0; first < events; first += BatchEvents)
        {
            var slice = generator.Generate(first, (int)Math.Min(BatchEvents, events - first));
            persons.Add(slice.Persons);
            auctions.Add(slice.Auctions);
            bids.Add(slice.Bids);
            if (first / BatchEvents % 32 == 0) Console.Error.Write($"\rgenerating {first * 100 / events}%");
        }
        Console.Error.WriteLine($"\rgenerated in {clock.Elapsed.TotalSeconds:F1} s: {persons.Sum(b => b.Length):N0} persons, {auctions.Sum(b => b.Length):N0} auctions, {bids.Sum(b => b.Length):N0} bids");

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        Execute(duck, "SET threads = 1");
        Load(duck, "person", persons);
        Load(duck, "auction", auctions);
        Load(duck, "bid", bids);
        Console.Error.WriteLine("loaded DuckDB's tables");

        var schemas = new Dictionary<string, Apache.Arrow.Schema>
        {
            ["person"] = NexmarkGenerator.PersonSchema, ["auction"] = NexmarkGenerator.AuctionSchema, ["bid"] = NexmarkGenerator.BidSchema,
        };

        Console.WriteLine();
        Console.WriteLine("| query | | output rows | dataplane cold events/s/core | warm | duckdb cold | warm | warm throughput, dataplane / DuckDB | dataplane allocated MB/run | state at mid-run | heap growth, peak |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        var mismatches = new List<string>();
        foreach (string name in selected)
        {
            var query = Queries[name];
            var program = SqlProgram.Compile(query.Watermark + "INSERT INTO out " + query.Sql, schemas, SqlMode.Streaming);
            if (args.Contains("--explain")) Console.Error.WriteLine($"{name}:\n{program.Statements[0].Explain()}");
            long outputRows = 0;
            long allocated = 0;
            var dataplane = Measure(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                long rows = 0;
                using var execution = program.Start((_, batch) => rows += batch.Length, state: state);
                for (int i = 0; i < bids.Count; i++)
                {
                    // The three streams a slice at a time, as a pipeline reading them side by side sees them
                    execution.Push("person", persons[i]);
                    execution.Push("auction", auctions[i]);
                    execution.Push("bid", bids[i]);
                }
                execution.Finish();
                outputRows = rows;
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            string duckSql = query.DuckDb ?? query.Sql;
            string consume = ConsumeEveryColumn(duck, duckSql);
            long duckRows = 0;
            var duckdb = Measure(() =>
            {
                using var command = duck.CreateCommand();
                command.CommandText = consume;
                duckRows = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            });
            var check = Verify(program, persons, auctions, bids, state);
            var expected = RowChecksum.Of(duck, duckSql);
            if (check.Dropped > 0)
                mismatches.Add($"{name}: the engine dropped {check.Dropped:N0} records ({string.Join(", ", check.DroppedReasons)})");
            if (check.Rows != expected.Rows || check.Checksum != expected.Value || duckRows != outputRows)
                mismatches.Add($"{name}: dataplane gave {check.Rows:N0} rows (checksum {check.Checksum:x16}, {outputRows:N0} when timed), DuckDB {expected.Rows:N0} (checksum {expected.Value:x16}, {duckRows:N0} when timed)");
            Console.WriteLine($"| {name} | {query.Description} | {outputRows:N0} | {Rate(events, dataplane.Cold)} | {Rate(events, dataplane.Warm)} | {Rate(events, duckdb.Cold)} | {Rate(events, duckdb.Warm)} | {duckdb.Warm / dataplane.Warm:F2}x | {allocated / 1_048_576.0:F0} | {Megabytes(check.StateBytes)} | {Megabytes(check.PeakHeapGrowth)} |");
        }
        Console.WriteLine();
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576} MB (the generated events and DuckDB's tables included)");
        if (mismatches.Count > 0)
        {
            foreach (string m in mismatches) Console.Error.WriteLine("MISMATCH " + m);
            Console.Error.WriteLine($"FAILED: {mismatches.Count} of {selected.Length} queries do not give DuckDB's rows");
            return Task.FromResult(1);
        }
        Console.WriteLine($"every query gave DuckDB's rows (count and checksum)");
        return Task.FromResult(0);
    }

    private sealed record Verification(long Rows, ulong Checksum, long Dropped, IReadOnlyList<string> DroppedReasons, long? StateBytes, long PeakHeapGrowth);

    /// <summary>
    /// An untimed run that checksums the output rows as DuckDB's are (<see cref="RowChecksum"/>), counts the records
    /// the engine dropped, writes a snapshot of the state halfway (its size) and samples the managed heap after each
    /// slice (its growth over the start's: state, buffers and the output batches not yet collected).
    /// </summary>
    private static Verification Verify(SqlProgram program, List<RecordBatch> persons, List<RecordBatch> auctions, List<RecordBatch> bids, StateOptions state)
    {
        var checksum = new RowChecksum();
        using var execution = program.Start((_, batch) => checksum.Add(batch), state: state);
        GC.Collect();
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        long? stateBytes = null;
        for (int i = 0; i < bids.Count; i++)
        {
            execution.Push("person", persons[i]);
            execution.Push("auction", auctions[i]);
            execution.Push("bid", bids[i]);
            peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false) - baseline);
            if (i == bids.Count / 2 && execution.HasState)
            {
                var counter = new CountingStream();
                execution.SaveState(counter);
                stateBytes = counter.Length;
            }
        }
        execution.Finish();
        var dropped = execution.Errors.Snapshot();
        return new Verification(checksum.Rows, checksum.Value, execution.Errors.Total,
            [.. dropped.Select(d => $"{d.Count:N0} {d.Reason.Code}")], stateBytes, peak);
    }

    /// <summary>A stream that keeps only the number of bytes written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }

    private static string Megabytes(long? bytes) => bytes is { } b ? $"{b / 1_048_576.0:F1} MB" : "none";

    /// <summary>CPU seconds of the process for one cold run and the median of the warm ones.</summary>
    private static (double Cold, double Warm) Measure(Action run)
    {
        double cold = CpuSeconds(run);
        var warm = new double[WarmRuns];
        for (int i = 0; i < WarmRuns; i++) warm[i] = CpuSeconds(run);
        System.Array.Sort(warm);
        return (cold, warm[WarmRuns / 2]);
    }

    private static double CpuSeconds(Action run)
    {
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        run();
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalSeconds;
    }

    private static string Rate(long events, double cpuSeconds) => (events / Math.Max(cpuSeconds, 1e-6)).ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>DuckDB's query made to compute each output column: the min of each, and the row count first.</summary>
    private static string ConsumeEveryColumn(DuckDBConnection duck, string sql)
    {
        var columns = new List<string>();
        using (var command = duck.CreateCommand())
        {
            command.CommandText = $"DESCRIBE ({sql})";
            using var reader = command.ExecuteReader();
            while (reader.Read()) columns.Add(reader.GetString(0));
        }
        return $"SELECT count(*), {string.Join(", ", columns.Select(c => $"min(\"{c}\")"))} FROM ({sql})";
    }

    private static void Load(DuckDBConnection duck, string table, List<RecordBatch> batches)
    {
        var schema = batches[0].Schema;
        string columns = string.Join(", ", schema.FieldsList.Select(f => $"\"{f.Name}\" {DuckType(f.DataType)} NOT NULL"));
        Execute(duck, $"CREATE TABLE {table} ({columns})");
        using var appender = duck.CreateAppender(table);
        foreach (var batch in batches)
            for (int row = 0; row < batch.Length; row++)
            {
                var line = appender.CreateRow();
                foreach (var column in batch.Arrays)
                {
                    switch (column)
                    {
                        case Int64Array longs: line.AppendValue(longs.GetValue(row)); break;
                        case StringArray strings: line.AppendValue(strings.GetString(row)); break;
                        case TimestampArray times: line.AppendValue(times.GetTimestamp(row)!.Value.UtcDateTime); break;
                        default: throw new NotSupportedException(column.Data.DataType.Name);
                    }
                }
                line.EndRow();
            }
    }

    private static string DuckType(Apache.Arrow.Types.IArrowType type) => type switch
    {
        Apache.Arrow.Types.Int64Type => "BIGINT",
        Apache.Arrow.Types.StringType => "VARCHAR",
        Apache.Arrow.Types.TimestampType => "TIMESTAMPTZ",
        _ => throw new NotSupportedException(type.Name),
    };

    private static void Execute(DuckDBConnection duck, string sql)
    {
        using var command = duck.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }
}
