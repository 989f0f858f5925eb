using System.Diagnostics;
using System.Globalization;
using DataPlane.Database;
using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace DataPlane.Benchmarks.Database;

/// <summary>
/// Load driver: one client committing small write transactions (an INSERT with random()) as fast as
/// it can, against raw Microsoft.Data.Sqlite (WAL, synchronous=FULL: one fsync per commit) as the
/// baseline, and against the Database primary with 0 and 2 in-process replicas (commit log fsynced per
/// commit, the same durability). Each variant runs in its own child process for its peak working set.
/// Replica lag is timed per transaction and per replica, from the moment the write call returned
/// (acknowledged) to the moment the replica's apply made it visible to reads; a replica that applied
/// it before the acknowledgement counts 0.
/// <c>--busy-thread</c> keeps one thread spinning in every variant: on this VM an idle vCPU wakes
/// slowly from a disk interrupt, so a process with other busy threads (replicas) sees faster fsyncs.
/// Run: <c>dotnet run -c Release --project bench -- database [--seconds 10] [--busy-thread]</c>.
/// </summary>
internal static class DatabaseWriteLoad
{
    private static readonly string[] Variants = ["raw-sqlite", "primary-0-replicas", "primary-2-replicas"];

    public static async Task<int> RunAsync(string[] args)
    {
        double seconds = double.Parse(Option(args, "--seconds") ?? "10", CultureInfo.InvariantCulture);
        string? variant = Option(args, "--variant");
        bool busy = args.Contains("--busy-thread");
        string dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "dataplane-bench-database");
        if (variant is not null) return await RunOneAsync(variant, seconds, dir, busy);

        Console.WriteLine($"load average before: {LoadAverage()}{(busy ? " (one busy thread per variant)" : "")}");
        var results = Variants.Select(v => RunChild(v, seconds, dir, busy)).ToList();
        Console.WriteLine($"load average after:  {LoadAverage()}");
        var baseline = results[0];
        Console.WriteLine();
        Console.WriteLine($"{"variant",-20} {"txn/s",8} {"ratio",6} {"fsync ms",9} {"lag p50 ms",11} {"lag p99 ms",11} {"lag max ms",11} {"before ack",11} {"GC pause ms",12} {"peak MB",8}");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Variant,-20} {r.PerSecond,8:0} {r.PerSecond / baseline.PerSecond,6:0.00} {Show(r.SyncMs),9} {Show(r.LagP50),11} {Show(r.LagP99),11} {Show(r.LagMax),11} {(double.IsNaN(r.BeforeAck) ? "-" : r.BeforeAck.ToString("P0", CultureInfo.InvariantCulture)),11} {r.GcPauseMs,12:0} {r.PeakBytes / 1048576.0,8:0}"));
        }
        return 0;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string Show(double value) => double.IsNaN(value) ? "-" : value.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>One variant's figures; lag in ms (NaN without replicas), fsync = mean ms per log sync.</summary>
    private sealed record Result(string Variant, double PerSecond, double SyncMs, double LagP50, double LagP99, double LagMax, double BeforeAck, double GcPauseMs, long PeakBytes)
    {
        public string Format() => string.Create(CultureInfo.InvariantCulture, $"RESULT {PerSecond} {SyncMs} {LagP50} {LagP99} {LagMax} {BeforeAck} {GcPauseMs} {PeakBytes}");

        public static Result Parse(string variant, string line)
        {
            var f = line.Split(' ');
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            return new Result(variant, D(1), D(2), D(3), D(4), D(5), D(6), D(7), long.Parse(f[8], CultureInfo.InvariantCulture));
        }
    }

    private static Result RunChild(string variant, double seconds, string dir, bool busy)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(DatabaseWriteLoad).Assembly.Location);
        foreach (var a in new[] { "database", "--variant", variant, "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--dir", dir })
            psi.ArgumentList.Add(a);
        if (busy) psi.ArgumentList.Add("--busy-thread");
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"variant {variant} failed (exit {p.ExitCode}): {output}");
        return Result.Parse(variant, line.Trim());
    }

    private static async Task<int> RunOneAsync(string variant, double seconds, string dir, bool busy)
    {
        string root = Path.Combine(dir, variant);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        var duration = TimeSpan.FromSeconds(seconds);
        using var stopBusy = new CancellationTokenSource();
        var spinner = busy ? new Thread(() => { while (!stopBusy.IsCancellationRequested) Thread.SpinWait(1000); }) { IsBackground = true } : null;
        spinner?.Start();
        var pausedBefore = GC.GetTotalPauseDuration();
        var result = variant switch
        {
            "raw-sqlite" => RunRaw(root, duration),
            "primary-0-replicas" => await RunPrimaryAsync(root, duration, 0),
            "primary-2-replicas" => await RunPrimaryAsync(root, duration, 2),
            _ => throw new ArgumentException($"--variant '{variant}' is not one of {string.Join(", ", Variants)}."),
        };
        stopBusy.Cancel();
        spinner?.Join();
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        Directory.Delete(root, recursive: true);
        Console.WriteLine((result with { GcPauseMs = (GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds, PeakBytes = peak }).Format());
        return 0;
    }

    private static Result RunRaw(string root, TimeSpan duration)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(root, "raw.sqlite")};Pooling=false");
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL");
        Exec(connection, "PRAGMA synchronous=FULL");
        Exec(connection, "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT, r INTEGER)");
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO t(k, v, r) VALUES ($k, $v, random())";
        var k = insert.Parameters.Add("$k", SqliteType.Integer);
        var v = insert.Parameters.Add("$v", SqliteType.Text);
        insert.Prepare();
        long count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            k.Value = count;
            v.Value = "value-" + count;
            insert.ExecuteNonQuery();
            transaction.Commit();
            count++;
        }
        return new Result("raw-sqlite", count / clock.Elapsed.TotalSeconds, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);
    }

    private static async Task<Result> RunPrimaryAsync(string root, TimeSpan duration, int replicas)
    {
        var options = new DatabaseOptions { DataDirectory = root, SyncCommits = true, SnapshotEveryEntries = 100_000 };
        await using var database = new ReplicatedDatabase("bench", Path.Combine(root, "bench"), replicas, options, NullLoggerFactory.Instance);
        await database.Primary.WriteAsync([new SqlStatement("CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT, r INTEGER)")], default);
        foreach (var replica in database.Replicas) await replica.Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(30), default);

        // Stopwatch timestamps by log position, preallocated so that timing allocates nothing per transaction.
        int capacity = (int)Math.Min(4_000_000, duration.TotalSeconds * 50_000);
        long first = database.Primary.Position + 1;
        var acknowledged = new long[capacity];
        var applied = database.Replicas.Select(_ => new long[capacity]).ToArray();
        for (int i = 0; i < database.Replicas.Count; i++)
        {
            var times = applied[i];
            database.Replicas[i].AppliedObserver = (from, to) =>
            {
                long now = Stopwatch.GetTimestamp();
                for (long p = Math.Max(from, first); p <= to && p - first < capacity; p++) times[p - first] = now;
            };
        }
        var syncsBefore = database.Primary.Log.Syncs;

        long count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && count < capacity)
        {
            var result = await database.Primary.WriteAsync([new SqlStatement("INSERT INTO t(k, v, r) VALUES (?, ?, random())", [count, "value-" + count])], default);
            acknowledged[result.Position - first] = Stopwatch.GetTimestamp();
            count++;
        }
        var elapsed = clock.Elapsed;
        var syncs = database.Primary.Log.Syncs;
        double syncMs = (syncs.Seconds - syncsBefore.Seconds) * 1000 / Math.Max(1, syncs.Count - syncsBefore.Count);
        foreach (var replica in database.Replicas)
        {
            if (!await replica.Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(60), default))
                throw new InvalidOperationException($"{replica.Id} did not catch up");
            replica.AppliedObserver = null;
            if (replica.ContentHash(out _) != database.Primary.ContentHash()) throw new InvalidOperationException($"{replica.Id} differs from the primary");
        }
        if (replicas == 0) return new Result("", count / elapsed.TotalSeconds, syncMs, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);

        var lags = new double[count * replicas];
        long early = 0;
        for (int r = 0; r < replicas; r++)
        {
            for (int i = 0; i < count; i++)
            {
                long ticks = applied[r][i] - acknowledged[i];
                if (ticks <= 0) early++;
                lags[r * count + i] = Math.Max(0, ticks) * 1000.0 / Stopwatch.Frequency;
            }
        }
        Array.Sort(lags);
        double Quantile(double q) => lags[Math.Clamp((int)Math.Ceiling(q * lags.Length) - 1, 0, lags.Length - 1)];
        return new Result("", count / elapsed.TotalSeconds, syncMs, Quantile(0.5), Quantile(0.99), lags[^1], early / (double)lags.Length, 0, 0);
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
