using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.Rest;
using DataPlane.Iceberg.Catalogs;
using DataPlane.TestServices;
using DuckDB.NET.Data;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Tests.WebConsole;

/// <summary>
/// The console in a real headless Chromium (Debian's chromium, driven by playwright-core from browser/package.json)
/// against a real <c>dataplane serve</c>, in one browser session: the wizard makes a stream, sink and pipeline; records
/// sent with curl show in the preview; the stream's throughput chart has points and the rejected request's reason; the
/// flushed snapshot is in the table's timeline and the table's first rows are what DuckDB reads from its files; a
/// read-only token, given with the keyboard alone, sees no create or delete button and its calls are refused; every
/// page is saved as a 1280x800
/// screenshot under TestResults/console; page loads with 100 streams, 100 pipelines and 1,000 tables are measured and
/// reported (not asserted).
/// </summary>
public sealed class ConsoleBrowserTests(ITestOutputHelper output) : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-console-browser-").FullName;

    private static string Folder => Path.Combine(RepoPaths.Root, "tests", "DataPlane.Tests", "WebConsole", "browser");

    [Fact]
    public async Task A_person_creates_a_pipeline_sees_its_records_chart_rejections_snapshot_and_rows_and_a_viewer_changes_nothing()
    {
        Assert.True(File.Exists(Chromium), $"The console's browser test needs Debian's chromium at {Chromium}: apt-get install chromium (scripts/test.sh does).");
        await EnsureInstalledAsync();

        // A slurp job for the slurp page: its journal goes to ~/.dataplane/slurp, under a HOME of the test's own.
        var home = Directory.CreateDirectory(Path.Combine(_workDir, "home")).FullName;
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["DATAPLANE_PIPELINES__TOKENS__0__TOKEN"] = "admin-token",
            ["DATAPLANE_PIPELINES__TOKENS__1__TOKEN"] = "viewer-token",
            ["DATAPLANE_PIPELINES__TOKENS__1__READONLY"] = "true",
            ["DATAPLANE_CATALOG__TOKENS__0__TOKEN"] = "admin-token",
            ["DATAPLANE_CATALOG__TOKENS__1__TOKEN"] = "viewer-token",
            ["DATAPLANE_CATALOG__TOKENS__1__READONLY"] = "true",
        };
        var source = Directory.CreateDirectory(Path.Combine(_workDir, "photos")).FullName;
        for (int i = 0; i < 5; i++) File.WriteAllText(Path.Combine(source, $"p{i}.jpg"), new string('x', 1000 * (i + 1)));
        await using (var slurp = DataPlaneProcess.Start(["slurp", "--from", source, "--to", Path.Combine(_workDir, "backup"), "--job", "backup"], _workDir, environment))
            Assert.True(await slurp.WaitAsync(TimeSpan.FromSeconds(120)) == 0, slurp.Output);

        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", "state"], environment);
        using (var http = new HttpClient { BaseAddress = server.BaseAddress })
        {
            using var created = await http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 2 });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        var screenshots = Path.Combine(RepoPaths.Root, "TestResults", "console");
        if (Directory.Exists(screenshots)) Directory.Delete(screenshots, recursive: true);
        Directory.CreateDirectory(screenshots);
        var (exit, stdout, stderr) = await RunAsync("node", Folder, new Dictionary<string, string>
        {
            ["BASE"] = server.BaseAddress.ToString().TrimEnd('/'),
            ["ADMIN_TOKEN"] = "admin-token",
            ["VIEWER_TOKEN"] = "viewer-token",
            ["OUT"] = screenshots,
            ["CHROMIUM"] = Chromium,
        }, TimeSpan.FromMinutes(8), "console-e2e.mjs");
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"console-e2e.mjs failed (exit {exit}):\n{stderr}\n{stdout}\nserver:\n{server.Output}");
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;

        // No script error on any page (refused calls show as failed loads, which are expected).
        var errors = r.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).Where(e => !e.Contains("Failed to load resource", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        // The wizard had the server compile the SQL as it was typed (a wrong column kept deploy off; the right SQL's plan
        // shown), and curl's requests were taken or refused with the reason.
        Assert.True(r.GetProperty("validationDisabledDeploy").GetBoolean());
        Assert.Equal("Project id AS id, ts AS ts, user AS user\n  Filter (id > 0)\n    Scan orders [id, ts, user]", r.GetProperty("plan").GetString()!.Trim());
        // The preview showed the SQL's output rows over the stream's recent records, before anything was deployed.
        Assert.Contains("cy", r.GetProperty("previewOutput").GetString());
        var curl = r.GetProperty("curl").EnumerateArray().ToList();
        Assert.Equal([200, 200, 400], curl.Select(c => c.GetProperty("status").GetInt32()));
        Assert.Contains("expected a long", curl[2].GetProperty("body").GetString());

        // The throughput chart has points, axes and units; the rejected request's reason is shown.
        var chart = r.GetProperty("chart").EnumerateArray().First(c => c.GetProperty("title").GetString()!.StartsWith("Records in", StringComparison.Ordinal));
        Assert.True(chart.GetProperty("canvas").GetBoolean());
        Assert.Matches(@"records in: peak (0\.\d*[1-9]|[1-9])", chart.GetProperty("summary").GetString());
        // uPlot draws the axes on the canvas (their labels and units are in the screenshots); the legend names each series' unit.
        Assert.Contains("records in (records/s)", chart.GetProperty("legend").EnumerateArray().Select(a => a.GetString()));
        var rejection = r.GetProperty("rejection").GetString()!;
        Assert.Contains("invalid records", rejection);
        Assert.Contains("field 'id': expected a long", rejection);

        // The flushed snapshot is the table's current one, in its timeline with the sink and offsets that wrote it.
        var table = await LoadTableAsync(Path.Combine(_workDir, "state"), "default.orders");
        Assert.Equal(2, table.Spec.Fields.Count); // day(ts), bucket(4, id): the wizard keeps a transform's own comma
        var flushed = long.Parse(r.GetProperty("flushedSnapshot").GetString()!, CultureInfo.InvariantCulture);
        // The pipeline's plan is the engine's: the stream, its filter and projection, and the sink with what it committed.
        var plan = r.GetProperty("pipelinePlan").GetString()!;
        Assert.Matches(@"(?s)stream orders.*FILTER.*\(id > 0\).*PROJECT.*SINK.*orders_table.*in: 4 records.*committed to offset 4", plan);
        Assert.Equal(table.Metadata.CurrentSnapshotId, flushed);
        var timeline = r.GetProperty("timeline").GetString()!;
        Assert.Contains($"snapshot {flushed}", timeline);
        Assert.Contains("written by sink orders_table from stream orders, offsets 0–4", timeline);

        // The table's maintenance: its settings as the API gives them, and the run queued through the API with its outcome.
        Assert.Equal(202, r.GetProperty("maintenanceQueued").GetInt32());
        var maintenance = r.GetProperty("maintenance").GetString()!;
        Assert.Contains("Snapshot expiry", maintenance);
        Assert.Contains("keeping at least 1", maintenance);
        Assert.Matches(@"expire-snapshots\s+manual\s+dry-run", maintenance);

        // The rows the console shows are the rows DuckDB reads from the table's files.
        var shown = r.GetProperty("tableRows").EnumerateArray().Select(row =>
            $"{row.GetProperty("id").GetString()}|{ToMicros(row.GetProperty("ts").GetString()!)}|{row.GetProperty("user").GetString()}").Order().ToList();
        var files = (await table.NewScan().PlanFilesAsync()).Select(t => new Uri(t.File.FilePath).LocalPath).ToList();
        Assert.Equal(DuckRows(files), shown);
        Assert.Equal(4, shown.Count);

        // A query's answer names its bookmark and the copy that served it.
        var query = r.GetProperty("query").GetString()!;
        Assert.Matches(@"Bookmark\s+[0-9a-f]{16}", query);
        Assert.Matches(@"Served by\s+(primary|app-r\d)", query);

        // The read-only token (given with the keyboard alone: Tab to the Token button, Enter, type, Enter): no create or
        // delete button, and every change it tries is refused by the API.
        Assert.InRange(r.GetProperty("tabsToToken").GetInt32(), 1, 12);
        var viewer = r.GetProperty("viewer");
        Assert.Contains("Pipelines: read only", viewer.GetProperty("summary").GetString());
        Assert.Equal(0, viewer.GetProperty("createButtons").GetInt32());
        Assert.Equal(0, viewer.GetProperty("deleteButtons").GetInt32());
        Assert.Equal(0, viewer.GetProperty("pipelineButtons").GetInt32());
        Assert.Contains("may not create", viewer.GetProperty("wizard").GetString());
        foreach (var attempt in viewer.GetProperty("refused").EnumerateObject())
        {
            Assert.True(attempt.Value.GetProperty("status").GetInt32() == 403, $"{attempt.Name}: {attempt.Value}");
            Assert.Contains("read-only", attempt.Value.GetProperty("body").GetString());
        }

        // Page loads with 100 streams, 100 pipelines and 1,000 tables: reported, not asserted.
        var counts = r.GetProperty("loadCounts");
        Assert.Equal(100, counts.GetProperty("streams").GetInt32());
        Assert.Equal(100, counts.GetProperty("pipelines").GetInt32());
        Assert.Equal(1000, counts.GetProperty("tables").GetInt32());
        var timings = r.GetProperty("timings").GetRawText();
        File.WriteAllText(Path.Combine(screenshots, "timings.json"), timings);
        output.WriteLine($"page loads (ms, first and warm): {timings}");

        // Every page was saved at 1280x800.
        var shots = r.GetProperty("screenshots").EnumerateArray().Select(s => s.GetString()!).ToList();
        Assert.True(shots.Count >= 19, string.Join(", ", shots));
        foreach (var shot in shots)
        {
            var png = File.ReadAllBytes(shot);
            Assert.Equal(1280, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
            Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        }
    }

    private static async Task<Iceberg.Operations.Table> LoadTableAsync(string data, string name)
    {
        using var catalog = new IcebergCatalog(new RestCatalogOptions
        {
            WarehouseLocation = Path.Combine(data, "warehouse"),
            DatabasePath = Path.Combine(data, "catalog", "catalog.db"),
        });
        return await catalog.LoadTableAsync(TableIdentifier.Parse(name));
    }

    private static long ToMicros(string iso) =>
        (DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static List<string> DuckRows(IReadOnlyList<string> files)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT id, epoch_us(ts), coalesce(\"user\", 'null') FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])";
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add($"{reader.GetInt64(0)}|{reader.GetInt64(1)}|{reader.GetString(2)}");
        return rows.Order().ToList();
    }

    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    /// <summary>playwright-core at the version browser/package.json pins (no browser download: Debian's chromium is used).</summary>
    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(Folder, "node_modules", "playwright-core"))) return;
            var (exit, stdout, stderr) = await RunAsync("npm", Folder, null, TimeSpan.FromMinutes(5), "install", "--no-audit", "--no-fund");
            Assert.True(exit == 0, $"npm install in {Folder} failed (exit {exit}): {stdout} {stderr}");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] args) =>
        ToolProcess.RunAsync(file, args, timeout, workingDirectory, environment);

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
