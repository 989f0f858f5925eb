using Apache.Arrow;
using Apache.Arrow.Types;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DataPlane.SqlTransforms;
using DuckDB.NET.Data;

namespace DataPlane.Benchmarks.SqlTransforms;

/// <summary>
/// The SQL engine alone against DuckDB over the same 10 million in-memory records: a filter, a projection and three
/// functions (upper, abs, date_trunc). Our engine gets the records as Arrow batches of 65,536 rows and its output is
/// counted; DuckDB gets the same values in a table (loaded before timing, one thread, as a pipeline runs one) and
/// must compute every output column (it aggregates them, which adds a little to its time).
/// Run: <c>dotnet run -c Release --project bench -- --filter '*EngineVsDuckDb*'</c>; the peak working set is printed at the end.
/// </summary>
[Config(typeof(Config))]
public class EngineVsDuckDb
{
    private const int Rows = 10_000_000;
    private const int BatchRows = 65_536;
    private const string Query = "SELECT id, upper(name) AS u, abs(score) AS a, date_trunc('hour', ts) AS h FROM events WHERE score < 900 AND id % 7 <> 0";

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // In process: the 10 million records are built once, and one operation takes seconds.
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }

    private readonly List<RecordBatch> _batches = [];
    private SqlProgram? _program;
    private DuckDBConnection? _duck;

    [GlobalSetup]
    public void Setup()
    {
        var schema = new Schema([
            new Field("id", Int64Type.Default, false), new Field("name", StringType.Default, true),
            new Field("score", DoubleType.Default, true), new Field("ts", new TimestampType(TimeUnit.Microsecond, (string?)null), true)], null);
        string[] names = Enumerable.Range(0, 100).Select(i => (i % 3 == 0 ? "Alpha" : i % 3 == 1 ? "beta-" : "GAMMA_") + i).ToArray();
        var random = new Random(42);
        _duck = new DuckDBConnection("DataSource=:memory:");
        _duck.Open();
        Execute("SET threads = 1");
        Execute("CREATE TABLE events (id BIGINT NOT NULL, name VARCHAR, score DOUBLE, ts TIMESTAMP)");
        using var appender = _duck.CreateAppender("events");
        for (int start = 0; start < Rows; start += BatchRows)
        {
            int n = Math.Min(BatchRows, Rows - start);
            var ids = new Int64Array.Builder();
            var text = new StringArray.Builder();
            var scores = new DoubleArray.Builder();
            var times = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, (string?)null));
            for (int i = 0; i < n; i++)
            {
                long id = start + i;
                string? name = i % 50 == 0 ? null : names[random.Next(names.Length)];
                double score = Math.Round(random.NextDouble() * 2000 - 1000, 3);
                var ts = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(random.Next(0, 90 * 86_400));
                ids.Append(id);
                if (name is null) text.AppendNull(); else text.Append(name);
                scores.Append(score);
                times.Append(ts);
                var row = appender.CreateRow().AppendValue(id).AppendValue(name).AppendValue(score).AppendValue(ts.UtcDateTime);
                row.EndRow();
            }
            _batches.Add(new RecordBatch(schema, [ids.Build(), text.Build(), scores.Build(), times.Build()], n));
        }
        appender.Close();
        _program = SqlProgram.Compile("INSERT INTO out " + Query, new Dictionary<string, Schema> { ["events"] = schema }, SqlMode.Streaming);
    }

    [Benchmark]
    public long DataPlane()
    {
        long rows = 0;
        var execution = _program!.Start((_, batch) => rows += batch.Length);
        foreach (var batch in _batches) execution.Push("events", batch);
        execution.Finish();
        return rows;
    }

    [Benchmark(Baseline = true)]
    public long DuckDb()
    {
        using var command = _duck!.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(length(u)), sum(a), max(h) FROM ({Query})";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _duck?.Dispose();
        Console.WriteLine($"// peak working set of the process: {Environment.WorkingSet / 1_048_576} MB now, {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1_048_576} MB at peak (input batches and DuckDB's table included)");
    }

    private void Execute(string sql)
    {
        using var command = _duck!.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
