using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using DataPlane.SqlTransforms;
using DuckDB.NET.Data;

namespace DataPlane.Benchmarks.Nexmark;

/// <summary>
/// Nexmark queries on the SQL engine against DuckDB's batch answer over the same events, in one run.
/// <c>dotnet run -c Release --project bench -- nexmark [events] [--queries q0,q1,q2]</c>. The events are generated
/// once (<see cref="NexmarkGenerator"/>) into Arrow batches of <see cref="BatchEvents"/> events, split into the
/// person, auction and bid streams, and loaded into DuckDB tables of the same types through its appender, all before
/// any timing. Each query runs once cold, then <see cref="WarmRuns"/> times; the figures are events of the whole
/// sequence per CPU-second of the process (Nexmark's "per core" measure) and the ratio to DuckDB's, which runs on one
/// thread as a pipeline does and must compute every output column (it takes each column's min).
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
        ["q18"] = new("dedup: last bid per bidder and auction, per 10 s window",
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '10 seconds'), bidder, auction ORDER BY datetime DESC) AS rank_number FROM bid) WHERE rank_number <= 1")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY time_bucket(INTERVAL '10 seconds', datetime), bidder, auction ORDER BY datetime DESC) AS rank_number FROM bid) WHERE rank_number <= 1",
        },
        ["q19"] = new("top-N: 10 highest bids per auction, per 10 s window",
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '10 seconds'), auction ORDER BY price DESC) AS rank_number FROM bid) WHERE rank_number <= 10")
        {
            Watermark = BidWatermark,
            DuckDb = "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY time_bucket(INTERVAL '10 seconds', datetime), auction ORDER BY price DESC) AS rank_number FROM bid) WHERE rank_number <= 10",
        },
    };

    /// <summary>Bids arrive in event-time order (the generator's clock only moves forward), so the watermark needs no delay.</summary>
    private const string BidWatermark = "WATERMARK FOR bid.datetime AS datetime;\n";

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

        Console.WriteLine($"# Nexmark, {events:N0} events ({Environment.ProcessorCount} cores, load average {LoadAverage()})");
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

        var streams = new Dictionary<string, List<RecordBatch>> { ["person"] = persons, ["auction"] = auctions, ["bid"] = bids };
        var schemas = new Dictionary<string, Apache.Arrow.Schema>
        {
            ["person"] = NexmarkGenerator.PersonSchema, ["auction"] = NexmarkGenerator.AuctionSchema, ["bid"] = NexmarkGenerator.BidSchema,
        };

        Console.WriteLine();
        Console.WriteLine("| query | | output rows | dataplane cold events/s/core | warm | duckdb cold | warm | warm throughput, dataplane / DuckDB | dataplane allocated MB/run |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (string name in selected)
        {
            var query = Queries[name];
            var program = SqlProgram.Compile(query.Watermark + "INSERT INTO out " + query.Sql, schemas, SqlMode.Streaming);
            long outputRows = 0;
            long allocated = 0;
            var dataplane = Measure(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                long rows = 0;
                var execution = program.Start((_, batch) => rows += batch.Length);
                foreach (var (stream, batches) in streams)
                    foreach (var batch in batches) execution.Push(stream, batch);
                execution.Finish();
                outputRows = rows;
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            string consume = ConsumeEveryColumn(duck, query.DuckDb ?? query.Sql);
            long duckRows = 0;
            var duckdb = Measure(() =>
            {
                using var command = duck.CreateCommand();
                command.CommandText = consume;
                duckRows = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            });
            if (duckRows != outputRows)
                Console.Error.WriteLine($"warning: {name}: dataplane gave {outputRows:N0} rows, DuckDB {duckRows:N0}");
            Console.WriteLine($"| {name} | {query.Description} | {outputRows:N0} | {Rate(events, dataplane.Cold)} | {Rate(events, dataplane.Warm)} | {Rate(events, duckdb.Cold)} | {Rate(events, duckdb.Warm)} | {duckdb.Warm / dataplane.Warm:F2}x | {allocated / 1_048_576.0:F0} |");
        }
        Console.WriteLine();
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576} MB (the generated events and DuckDB's tables included)");
        return Task.FromResult(0);
    }

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
