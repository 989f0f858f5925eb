using System.Diagnostics;
using System.Security.Cryptography;
using DataPlane.Storage;
using DataPlane.TestServices;

namespace DataPlane.Benchmarks.Slurper;

/// <summary>
/// Load driver: `dataplane slurp` against `rclone copy` (Debian's rclone) on the same data from the same source S3
/// server, at matched concurrency, in one run. Both run as child processes so wall time and peak memory (VmHWM)
/// are measured the same way. Data: 10,000 x 4 KiB objects over nested prefixes, and 10 x 50 MiB objects. Each data set
/// is copied in several rounds, the tools taking turns going first, each copy into a destination server started for it.
///   dotnet run -c Release --project bench -- slurp [--concurrency N] [--small N] [--large N] [--rounds N]
/// Needs `rclone` on PATH (apt-get install rclone) and src/DataPlane built in the same configuration (checked: a build
/// older than src/Slurper or src/Storage is refused). Besides wall time it reports each tool's CPU time and the servers'.
/// </summary>
internal static class SlurpVsRclone
{
    sealed record Measured(string Tool, string Data, int Round, TimeSpan Wall, long PeakRssBytes, long Objects, long Bytes, TimeSpan ToolCpu,
        TimeSpan SourceCpu, TimeSpan DestinationCpu, string LoadAverage);

    public static async Task<int> RunAsync(string[] args)
    {
        int Arg(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        var concurrency = Arg("--concurrency", 32);
        var smallCount = Arg("--small", 10_000);
        var largeCount = Arg("--large", 10);
        var rounds = Arg("--rounds", 2);
        var rclone = FindOnPath("rclone") ?? throw new InvalidOperationException("rclone is not on PATH: apt-get install -y rclone");
        var dataplane = DataPlaneDll();

        Console.WriteLine($"{Uptime()}");
        Console.WriteLine($"Starting the source S3 server; {smallCount} x 4 KiB and {largeCount} x 50 MiB; concurrency {concurrency} for both tools.");
        await using var source = await S3Server.StartAsync();
        Console.WriteLine($"source {source.Kind} {source.Endpoint}; {rounds} rounds per data set, each tool into a new destination server, taking turns going first.");
        var small = await source.CreateBucketAsync("small");
        var large = await source.CreateBucketAsync("large");
        using (var s = ObjectStore.Open($"s3://{small}", Options(source)))
            await Parallel.ForEachAsync(Enumerable.Range(0, smallCount), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
                await s.PutAsync($"d{i % 10}/e{i / 10 % 10}/f{i / 100 % 10}/obj-{i:00000}", new MemoryStream(RandomNumberGenerator.GetBytes(4096)), null, ct));
        using (var l = ObjectStore.Open($"s3://{large}", Options(source)))
            for (var i = 0; i < largeCount; i++)
            {
                await using var w = await l.OpenWriteAsync($"blob-{i:00}.bin");
                var buffer = new byte[1 << 20];
                for (var mb = 0; mb < 50; mb++)
                {
                    Random.Shared.NextBytes(buffer);
                    await w.WriteAsync(buffer);
                }
                await w.CompleteAsync();
            }

        // Fairness: each measurement copies into a destination server of its own, started for it (the same empty state and
        // a fresh node process for both tools: no other tool's objects on its disk, no heap grown by the other run), and the
        // tools take turns going first, round by round, so neither always meets the machine in the same state.
        var results = new List<Measured>();
        // A set of zero objects (--small 0 or --large 0) is not copied: timing two empty listings says nothing.
        var sets = new (int Count, string Data, string Bucket)[]
        {
            (smallCount, $"{smallCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} x 4 KiB", small),
            (largeCount, $"{largeCount} x 50 MiB", large),
        };
        foreach (var (_, data, bucket) in sets.Where(set => set.Count > 0))
            for (var round = 1; round <= rounds; round++)
            {
                var order = round % 2 == 1 ? new[] { "rclone copy", "dataplane slurp" } : ["dataplane slurp", "rclone copy"];
                foreach (var tool in order)
                {
                    await using var destination = await S3Server.StartAsync();
                    var target = await destination.CreateBucketAsync(tool == "rclone copy" ? "rclone" : "slurp");
                    results.Add(tool == "rclone copy"
                        ? await MeasureAsync(tool, data, round, source, destination, target, rclone,
                        [
                            "copy", $"src:{bucket}", $"dst:{target}", "--transfers", concurrency.ToString(), "--checkers", concurrency.ToString(),
                            "--s3-upload-cutoff", "32M", "--s3-chunk-size", "16M", "--s3-upload-concurrency", "4", "--stats", "0",
                        ], RcloneEnvironment(source, destination))
                        : await MeasureAsync(tool, data, round, source, destination, target, "dotnet",
                        [
                            dataplane, "slurp", "--from", $"s3://{bucket}", "--to", $"s3://{target}",
                            "--from-endpoint", source.Endpoint, "--from-access-key", source.AccessKey, "--from-secret-key", source.SecretKey,
                            "--to-endpoint", destination.Endpoint, "--to-access-key", destination.AccessKey, "--to-secret-key", destination.SecretKey,
                            "--concurrency", concurrency.ToString(), "--multipart-threshold", "32MiB", "--part-size", "16MiB", "--part-concurrency", "4",
                            "--journal", Path.Combine(Path.GetTempPath(), $"slurp-bench-{Guid.NewGuid():N}.db"), "--progress", "log", "--log-interval", "600",
                        ], []));
                }
            }

        Console.WriteLine();
        Console.WriteLine(Uptime());
        Console.WriteLine("| data | round | tool | wall | objects/s | MiB/s | peak RSS | tool CPU | source server CPU | destination server CPU | load average at the end |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var m in results)
            Console.WriteLine($"| {m.Data} | {m.Round} | {m.Tool} | {m.Wall.TotalSeconds:0.00} s | {m.Objects / m.Wall.TotalSeconds:0.0} | {m.Bytes / m.Wall.TotalSeconds / (1 << 20):0.0} | " +
                $"{m.PeakRssBytes / (1 << 20)} MiB | {m.ToolCpu.TotalSeconds:0.0} s | {m.SourceCpu.TotalSeconds:0.0} s | {m.DestinationCpu.TotalSeconds:0.0} s | {m.LoadAverage} |");
        Console.WriteLine();
        foreach (var data in results.Select(r => r.Data).Distinct())
        {
            var perRound = results.Where(r => r.Data == data).GroupBy(r => r.Round).Select(g =>
            {
                var r = g.Single(x => x.Tool == "rclone copy");
                var d = g.Single(x => x.Tool == "dataplane slurp");
                return (Wall: r.Wall / d.Wall, Cpu: (r.ToolCpu + r.SourceCpu + r.DestinationCpu) / (d.ToolCpu + d.SourceCpu + d.DestinationCpu));
            }).ToList();
            // The geometric mean of the rounds' ratios: rounds where rclone went first and where dataplane did weigh the same.
            var wall = Math.Exp(perRound.Average(p => Math.Log(p.Wall)));
            var cpu = Math.Exp(perRound.Average(p => Math.Log(p.Cpu)));
            Console.WriteLine($"{data}: dataplane slurp is {wall:0.00}x rclone (wall time rclone/dataplane, geometric mean of {perRound.Count} rounds: " +
                $"{string.Join(", ", perRound.Select(p => $"{p.Wall:0.00}x"))}); CPU (tool + both servers) {cpu:0.00}x ({string.Join(", ", perRound.Select(p => $"{p.Cpu:0.00}x"))})");
        }
        return 0;
    }

    static S3Options Options(S3Server s) => new() { Endpoint = s.Endpoint, AccessKey = s.AccessKey, SecretKey = s.SecretKey };

    static Dictionary<string, string> RcloneEnvironment(S3Server source, S3Server destination)
    {
        var env = new Dictionary<string, string>();
        foreach (var (name, server) in new[] { ("SRC", source), ("DST", destination) })
        {
            env[$"RCLONE_CONFIG_{name}_TYPE"] = "s3";
            env[$"RCLONE_CONFIG_{name}_PROVIDER"] = "Other";
            env[$"RCLONE_CONFIG_{name}_ENDPOINT"] = server.Endpoint;
            env[$"RCLONE_CONFIG_{name}_ACCESS_KEY_ID"] = server.AccessKey;
            env[$"RCLONE_CONFIG_{name}_SECRET_ACCESS_KEY"] = server.SecretKey;
            env[$"RCLONE_CONFIG_{name}_FORCE_PATH_STYLE"] = "true";
            env[$"RCLONE_CONFIG_{name}_REGION"] = "us-east-1";
        }
        return env;
    }

    static async Task<Measured> MeasureAsync(string tool, string data, int round, S3Server source, S3Server destination, string bucket, string file, string[] args,
        Dictionary<string, string> env)
    {
        Console.WriteLine($"{data}, round {round}: {tool}...");
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in env) info.Environment[k] = v;
        info.Environment.Remove("AWS_CA_BUNDLE"); // rclone refuses to start when it points at a missing bundle
        // On a shared machine wall time says as much about the neighbours as about the tool: CPU time used by the tool
        // (its children's rusage) and by both servers (their /proc stat) is charged to each run as well.
        var childrenBefore = ChildrenCpu();
        var sourceBefore = ProcessCpu(source.ProcessId);
        var destinationBefore = ProcessCpu(destination.ProcessId);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!p.HasExited)
        {
            peak = Math.Max(peak, PeakRss(p.Id));
            await Task.Delay(50);
        }
        clock.Stop();
        await p.WaitForExitAsync();
        var toolCpu = ChildrenCpu() - childrenBefore;
        var sourceCpu = ProcessCpu(source.ProcessId) - sourceBefore;
        var destinationCpu = ProcessCpu(destination.ProcessId) - destinationBefore;
        var load = Uptime();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} exited with {p.ExitCode}:\n{await stdout}\n{await stderr}");
        long objects = 0, bytes = 0;
        using (var store = ObjectStore.Open($"s3://{bucket}", Options(destination)))
            await foreach (var o in store.ListAsync(""))
            {
                objects++;
                bytes += o.Size;
            }
        Console.WriteLine($"  {clock.Elapsed.TotalSeconds:0.00} s, {objects} objects, peak RSS {peak / (1 << 20)} MiB, CPU {toolCpu.TotalSeconds:0.0} s tool + " +
            $"{sourceCpu.TotalSeconds:0.0} s source server + {destinationCpu.TotalSeconds:0.0} s destination server; {load}");
        // A tool that met errors and retried did more work than the copy needs: say so, since it weighs on the ratio.
        var complaints = (await stderr).Split('\n').Where(l => l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("Attempt", StringComparison.Ordinal)).ToList();
        if (complaints.Count > 0)
            Console.WriteLine($"  {complaints.Count} error or retry line(s) from {tool}, first: {string.Join(" | ", complaints.Take(3))}");
        return new Measured(tool, data, round, clock.Elapsed, peak, objects, bytes, toolCpu, sourceCpu, destinationCpu, load.Replace("load average ", ""));
    }

    static string Uptime() => File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int getrusage(int who, [System.Runtime.InteropServices.Out] long[] usage);

    /// <summary>User + system CPU of every child process waited for so far (RUSAGE_CHILDREN).</summary>
    static TimeSpan ChildrenCpu()
    {
        var usage = new long[18]; // struct rusage on 64-bit Linux: two timevals, then 14 longs
        if (getrusage(-1, usage) != 0) return TimeSpan.Zero;
        return TimeSpan.FromSeconds(usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6);
    }

    /// <summary>User + system CPU of a running process (utime and stime of /proc/PID/stat, in clock ticks of 1/100 s).</summary>
    static TimeSpan ProcessCpu(int? pid)
    {
        if (pid is null) return TimeSpan.Zero;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>VmHWM: the process's peak resident set so far.</summary>
    static long PeakRss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:"))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    static string DataPlaneDll()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.Root, "src", "DataPlane", "bin", configuration, "net10.0", "dataplane.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"Build src/DataPlane -c {configuration} first: {dll} is missing.");
        // The bench does not build the executable it runs: refuse a build older than the code it is meant to measure.
        var built = File.GetLastWriteTimeUtc(Path.Combine(Path.GetDirectoryName(dll)!, "DataPlane.Slurper.dll"));
        var newest = new[] { "Slurper", "Storage" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src", d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .MaxBy(File.GetLastWriteTimeUtc);
        if (newest is not null && File.GetLastWriteTimeUtc(newest) > built)
            throw new InvalidOperationException($"{dll} is older than {newest}: run `dotnet build -c {configuration} src/DataPlane` first.");
        return dll;
    }
}
