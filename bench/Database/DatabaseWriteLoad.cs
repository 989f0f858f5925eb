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
/// commit, the same durability). Each variant runs in its own child process for its peak working set;
/// the 2-replica run also reports replica lag (commit on the primary to visible on a replica).
/// Run: <c>dotnet run -c Release --project bench -- database [--seconds 10]</c>.
/// </summary>
internal static class DatabaseWriteLoad
{
    private static readonly string[] Variants = ["raw-sqlite", "primary-0-replicas", "primary-2-replicas"];

    public static async Task<int> RunAsync(string[] args)
    {
        double seconds = double.Parse(Option(args, "--seconds") ?? "10", CultureInfo.InvariantCulture);
        string? variant = Option(args, "--variant");
        string dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "dataplane-bench-database");
        if (variant is not null) return await RunOneAsync(variant, seconds, dir);

        var results = Variants.Select(v => RunChild(v, seconds, dir)).ToList();
        var baseline = results[0];
        Console.WriteLine();
        Console.WriteLine($"{"variant",-20} {"txn/s",10} {"ratio",7} {"lag p50 ms",11} {"lag p99 ms",11} {"peak MB",8}");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Variant,-20} {r.PerSecond,10:0} {r.PerSecond / baseline.PerSecond,7:0.00} {Show(r.LagP50),11} {Show(r.LagP99),11} {r.PeakBytes / 1048576.0,8:0}"));
        }
        return 0;
    }

    private static string Show(double value) => double.IsNaN(value) ? "-" : value.ToString("0.000", CultureInfo.InvariantCulture);

    private sealed record Result(string Variant, double PerSecond, double LagP50, double LagP99, long PeakBytes);

    private static Result RunChild(string variant, double seconds, string dir)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(DatabaseWriteLoad).Assembly.Location);
        foreach (var a in new[] { "database", "--variant", variant, "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--dir", dir })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"variant {variant} failed (exit {p.ExitCode}): {output}");
        var f = line.Split(' ');
        return new Result(variant, double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture),
            double.Parse(f[3], CultureInfo.InvariantCulture), long.Parse(f[4], CultureInfo.InvariantCulture));
    }

    private static async Task<int> RunOneAsync(string variant, double seconds, string dir)
    {
        string root = Path.Combine(dir, variant);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        var duration = TimeSpan.FromSeconds(seconds);
        (long count, TimeSpan elapsed, double p50, double p99) = variant switch
        {
            "raw-sqlite" => RunRaw(root, duration),
            "primary-0-replicas" => await RunPrimaryAsync(root, duration, 0),
            "primary-2-replicas" => await RunPrimaryAsync(root, duration, 2),
            _ => throw new ArgumentException($"--variant '{variant}' is not one of {string.Join(", ", Variants)}."),
        };
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        Directory.Delete(root, recursive: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {count / elapsed.TotalSeconds:0.0} {p50} {p99} {peak}"));
        return 0;
    }

    private static (long, TimeSpan, double, double) RunRaw(string root, TimeSpan duration)
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
        return (count, clock.Elapsed, double.NaN, double.NaN);
    }

    private static async Task<(long, TimeSpan, double, double)> RunPrimaryAsync(string root, TimeSpan duration, int replicas)
    {
        var options = new DatabaseOptions { DataDirectory = root, SyncCommits = true, SnapshotEveryEntries = 100_000 };
        await using var database = new ReplicatedDatabase("bench", Path.Combine(root, "bench"), replicas, options, NullLoggerFactory.Instance);
        await database.Primary.WriteAsync([new SqlStatement("CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT, r INTEGER)")], default);
        foreach (var replica in database.Replicas) await replica.Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(30), default);
        foreach (var replica in database.Replicas) replica.Lag.Reset();
        long count = 0;
        var parameters = new object?[2];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            await database.Primary.WriteAsync([new SqlStatement("INSERT INTO t(k, v, r) VALUES (?, ?, random())", [count, "value-" + count])], default);
            count++;
        }
        var elapsed = clock.Elapsed;
        foreach (var replica in database.Replicas)
        {
            if (!await replica.Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(60), default))
                throw new InvalidOperationException($"{replica.Id} did not catch up");
            if (replica.ContentHash(out _) != database.Primary.ContentHash()) throw new InvalidOperationException($"{replica.Id} differs from the primary");
        }
        double p50 = replicas == 0 ? double.NaN : database.Replicas.Max(r => r.Lag.QuantileMilliseconds(0.5));
        double p99 = replicas == 0 ? double.NaN : database.Replicas.Max(r => r.Lag.QuantileMilliseconds(0.99));
        return (count, elapsed, p50, p99);
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
