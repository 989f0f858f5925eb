using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.Benchmarks.SqlTransforms;

/// <summary>
/// A keyed tumbling count and sum over more distinct keys than its state budget holds, which spills to sorted runs and
/// merges them when the window closes. <c>dotnet run -c Release --project bench -- keyed-state [keys] [--budget-mb 256]
/// [--shards N]</c> (<c>--budget-mb 0</c>: all in memory). Every key gets two records in one window, in a scattered
/// order, generated batch by batch as they are pushed (nothing is held but the state); the output is checked (one row
/// per key, each counting 2, the sums adding up to what was generated). Prints records/s (wall and per CPU-second),
/// the peak working set against the one before the run, and what spilled.
/// </summary>
internal static class KeyedStateSpill
{
    private const int BatchRows = 65_536;
    private const long Start = 1_767_225_600_000_000; // 2026-01-01 00:00:00

    private static readonly Schema Schema = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.BigInt, false),
        ArrowTypes.Field("v", SqlType.BigInt, false)], null);

    public static Task<int> RunAsync(string[] args)
    {
        long keys = args.Length > 1 && long.TryParse(args[1], CultureInfo.InvariantCulture, out long k) ? k : 10_000_000;
        long budgetMb = Option(args, "--budget-mb") ?? 256;
        int shards = (int)(Option(args, "--shards") ?? Environment.ProcessorCount);
        string spill = Directory.CreateTempSubdirectory("dataplane-bench-spill-").FullName;
        try
        {
            var state = new StateOptions { Shards = shards, MemoryBytes = budgetMb == 0 ? long.MaxValue : budgetMb * 1024 * 1024, SpillDirectory = spill };
            Run(keys, state);
            return Task.FromResult(0);
        }
        finally
        {
            Directory.Delete(spill, recursive: true);
        }
    }

    private static long? Option(string[] args, string name) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : null;

    private static void Run(long keys, StateOptions state)
    {
        const string Sql = "WATERMARK FOR input.ts AS ts - INTERVAL '1' SECOND;\n" +
            "INSERT INTO out SELECT window_start, k, count(*) AS n, sum(v) AS s FROM input GROUP BY tumble(INTERVAL '1' HOUR), k";
        var program = SqlProgram.Compile(Sql, new Dictionary<string, Schema> { ["input"] = Schema }, SqlMode.Streaming);
        long rows = 0, counted = 0, minCount = long.MaxValue, maxCount = 0;
        Int128 sum = 0;
        using var execution = program.Start(0, batch =>
        {
            rows += batch.Length;
            var n = Vectors.Values<long>(batch.Column(2));
            var s = Vectors.Values<Int128>(batch.Column(3));
            for (int i = 0; i < batch.Length; i++)
            {
                counted += n[i];
                minCount = Math.Min(minCount, n[i]);
                maxCount = Math.Max(maxCount, n[i]);
                sum += s[i];
            }
        }, () => Start, state);

        var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        long before = process.WorkingSet64;
        var cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        long records = 2 * keys;
        Int128 generated = 0;
        for (long first = 0; first < records; first += BatchRows)
        {
            int count = (int)Math.Min(BatchRows, records - first);
            var ts = Vectors.Allocate<long>(count, out var tsValues);
            var ks = Vectors.Allocate<long>(count, out var keyValues);
            var vs = Vectors.Allocate<long>(count, out var values);
            for (int i = 0; i < count; i++)
            {
                long r = first + i;
                // all in the first hour; each key twice, in an order scattered by an odd multiplier (a bijection of longs)
                tsValues[i] = Start + r * 3_600_000_000 / records;
                keyValues[i] = unchecked((r % keys) * (long)0x9E3779B97F4A7C15);
                values[i] = r % 1000;
                generated += values[i];
            }
            execution.Push("input", new RecordBatch(Schema, [Vectors.Fixed(SqlType.Timestamp, ts, null, count), Vectors.Fixed(SqlType.BigInt, ks, null, count),
                Vectors.Fixed(SqlType.BigInt, vs, null, count)], count));
        }
        execution.Finish();
        wall.Stop();
        process.Refresh();
        double seconds = wall.Elapsed.TotalSeconds, cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        var use = execution.StateMemoryUse;
        bool correct = rows == keys && counted == records && minCount == 2 && maxCount == 2 && sum == generated;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{keys:N0} keys, {records:N0} records, budget {(state.MemoryBytes == long.MaxValue ? "none" : $"{state.MemoryBytes / 1_048_576} MB")}, {state.Shards} shards"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"output {rows:N0} rows, {(correct ? "correct" : $"WRONG (counted {counted:N0}, counts {minCount}..{maxCount}, sum {sum} of {generated})")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{records / seconds:N0} records/s wall ({seconds:F1} s), {records / cpuSeconds:N0} records/s per CPU-second ({cpuSeconds:F1} s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"working set before {before / 1_048_576} MB, peak {process.PeakWorkingSet64 / 1_048_576} MB; state held at most {use.PeakHeld / 1_048_576} MB, " +
            $"{use.PeakAccounted / 1_048_576} MB with the garbage of outgrown and spilled arrays (estimate, {use.Collections} collections to free it); " +
            $"{use.RunsSpilled} runs spilled, {use.BytesSpilled / 1_048_576} MB; load average {LoadAverage()}"));
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
