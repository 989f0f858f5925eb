using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;
using DataPlane.Pipelines.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataPlane.Maintenance;

/// <summary>
/// Table maintenance in <c>dataplane serve</c>: every <see cref="MaintenanceOptions.CheckSeconds"/> it looks at each table
/// of the catalog (cheaply: its metadata and manifest list) and queues the jobs whose thresholds it crosses, as its
/// properties set them (<see cref="MaintenanceSettings"/>): compaction once a partition may have
/// <c>min-input-files</c> small files (the current snapshot's average file is under three quarters of the target, or
/// delete files apply), manifest rewrite past <c>min-manifests</c> data manifests, expiry once a snapshot is older than
/// the maximum age or the table holds more than <c>max-snapshots</c>, orphan removal every <c>interval-ms</c>. Runs queued by hand (the API) join the same queue.
/// <para>
/// Bounded so that ingestion keeps its throughput: at most <see cref="MaintenanceOptions.MaxConcurrentJobs"/> jobs at
/// once and one per table, all sharing <see cref="MaintenanceOptions.MaxBytesPerSecond"/> of reads and writes. A job found
/// to have nothing to do is not queued again for that table until its metadata changes (or an hour passes). Every
/// finished run goes to the history with its outcome and bytes, and the table's figures to <c>/metrics</c>.
/// </para>
/// </summary>
internal sealed class MaintenanceScheduler : BackgroundService
{
    private static readonly TimeSpan IdleMemory = TimeSpan.FromHours(1);

    private readonly ICatalog _catalog;
    private readonly MaintenanceOptions _options;
    private readonly string _pipelinesDirectory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IoBudget _budget;
    private readonly object _gate = new();
    private readonly Dictionary<string, List<MaintenanceRun>> _queued = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MaintenanceRun> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Table, MaintenanceJob Job), (string Metadata, DateTimeOffset At)> _idle = [];
    private readonly Dictionary<string, string> _badSettings = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _ready = new(0);
    private long _nextId;

    public MaintenanceScheduler(ICatalog catalog, MaintenanceOptions options, string pipelinesDirectory, string dataDirectory, ILogger<MaintenanceScheduler> logger,
        TimeProvider? time = null, IMeterFactory? meters = null)
    {
        _catalog = catalog;
        _options = options;
        _pipelinesDirectory = pipelinesDirectory;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _budget = options.MaxBytesPerSecond == 0 ? IoBudget.Unlimited : new IoBudget(options.MaxBytesPerSecond, _time);
        History = new MaintenanceHistory(Path.Combine(dataDirectory, "maintenance"), options.HistoryPerTable);
        Metrics = new MaintenanceMetrics(History, meters);
    }

    public MaintenanceHistory History { get; }
    public MaintenanceMetrics Metrics { get; }

    /// <summary>Queues a run of a job on a table; a scheduled run is not queued twice.</summary>
    public MaintenanceRun Enqueue(TableIdentifier table, JobRequest request, string trigger)
    {
        var name = table.ToString();
        var run = new MaintenanceRun(Interlocked.Increment(ref _nextId).ToString("D", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8],
            name, request, trigger, _time.GetUtcNow());
        lock (_gate)
        {
            if (!_queued.TryGetValue(name, out var queue)) _queued[name] = queue = [];
            queue.Add(run);
        }
        _ready.Release();
        return run;
    }

    /// <summary>The table's runs not finished yet: the running one, then the queued ones in order.</summary>
    public IReadOnlyList<MaintenanceRun> Active(string table)
    {
        lock (_gate)
        {
            var active = new List<MaintenanceRun>();
            if (_running.TryGetValue(table, out var running)) active.Add(running);
            if (_queued.TryGetValue(table, out var queue)) active.AddRange(queue);
            return active;
        }
    }

    public MaintenanceRun? Find(string table, string id) =>
        Active(table).FirstOrDefault(r => r.Id == id) ?? History.For(table).FirstOrDefault(r => r.Id == id);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = Enumerable.Range(0, _options.MaxConcurrentJobs).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None));
        return Task.WhenAll(workers.Append(Task.Run(() => CheckLoopAsync(stoppingToken), CancellationToken.None)));
    }

    private async Task CheckLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await CheckAllAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Table maintenance: looking at the tables failed; trying again in {Seconds} s", _options.CheckSeconds);
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(_options.CheckSeconds), _time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Each table's figures for the metrics, and the jobs it is due for.</summary>
    private async Task CheckAllAsync(CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var id in TablesAsync(ct))
        {
            ct.ThrowIfCancellationRequested();
            Table? table;
            try
            {
                table = await _catalog.TryLoadTableAsync(id, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning("Table maintenance: cannot load {Table}: {Reason}", id, e.Message);
                continue;
            }
            if (table is null) continue;
            var name = id.ToString();
            seen.Add(name);
            await Metrics.ObserveAsync(name, table, ct);
            if (!_options.Enabled) continue;
            MaintenanceSettings settings;
            try
            {
                settings = MaintenanceSettings.From(table.Metadata);
                lock (_gate) _badSettings.Remove(name);
            }
            catch (ArgumentException e)
            {
                bool first;
                lock (_gate) first = _badSettings.TryAdd(name, e.Message);
                if (first)
                    _logger.LogWarning("Table maintenance: {Table} is not maintained until its properties are fixed: {Reason}", name, e.Message);
                continue;
            }
            if (!settings.Enabled) continue;
            foreach (var job in MaintenanceJobs.All)
                if (await DueAsync(name, job, table, settings, ct))
                {
                    bool pending;
                    lock (_gate)
                        pending = (_running.TryGetValue(name, out var r) && r.Request.Job == job)
                            || (_queued.TryGetValue(name, out var q) && q.Any(x => x.Request.Job == job));
                    if (!pending)
                        Enqueue(id, new JobRequest(job), "schedule");
                }
        }
        Metrics.Forget(seen);
    }

    private async Task<bool> DueAsync(string name, MaintenanceJob job, Table table, MaintenanceSettings s, CancellationToken ct)
    {
        var m = table.Metadata;
        var now = _time.GetUtcNow();
        lock (_gate)
            if (_idle.TryGetValue((name, job), out var idle) && idle.Metadata == table.State.MetadataLocation && now - idle.At < IdleMemory)
                return false;
        long Total(string key) => m.CurrentSnapshot?.Summary.TryGetValue(key, out var v) == true && long.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : 0;
        switch (job)
        {
            case MaintenanceJob.Compact:
                var files = Total("total-data-files");
                return s.CompactionEnabled && files >= s.MinInputFiles
                    && (Total("total-files-size") / Math.Max(1, files) < s.TargetFileSizeBytes * 3 / 4 || Total("total-delete-files") > 0);
            case MaintenanceJob.RewriteManifests:
                return s.ManifestsEnabled && await RewriteManifests.DataManifestsAsync(table, ct) >= s.MinManifests;
            case MaintenanceJob.ExpireSnapshots:
                return s.ExpiryEnabled && m.Snapshots.Count > s.MinSnapshotsToKeep
                    && (m.Snapshots.Count > s.MaxSnapshots || m.Snapshots.Min(x => x.TimestampMs) < now.ToUnixTimeMilliseconds() - s.MaxSnapshotAgeMs);
            default:
                return s.OrphansEnabled && (History.LastFinished(name, job) is not { } last || (now - last).TotalMilliseconds >= s.OrphanIntervalMs);
        }
    }

    private async IAsyncEnumerable<TableIdentifier> TablesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var pending = new Queue<IReadOnlyList<string>>(await _catalog.ListNamespacesAsync(null, ct));
        while (pending.TryDequeue(out var ns))
        {
            foreach (var id in await _catalog.ListTablesAsync(ns, ct)) yield return id;
            foreach (var child in await _catalog.ListNamespacesAsync(ns, ct)) pending.Enqueue(child);
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await _ready.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            MaintenanceRun? run = null;
            lock (_gate)
            {
                foreach (var (table, queue) in _queued)
                {
                    if (queue.Count == 0 || _running.ContainsKey(table)) continue;
                    run = queue[0];
                    queue.RemoveAt(0);
                    _running[table] = run;
                    break;
                }
            }
            if (run is null) continue; // its table is busy: the running job signals again when it ends
            await RunAsync(run, ct);
            lock (_gate)
            {
                _running.Remove(run.Table);
                if (_queued.TryGetValue(run.Table, out var queue) && queue.Count > 0) _ready.Release();
            }
        }
    }

    private async Task RunAsync(MaintenanceRun run, CancellationToken ct)
    {
        run.Start(_time.GetUtcNow());
        JobOutcome outcome;
        try
        {
            var table = await _catalog.LoadTableAsync(TableIdentifier.Parse(run.Table), ct);
            outcome = await JobRunner.RunAsync(table, run.Request with { SortMemoryBytes = run.Request.SortMemoryBytes ?? _options.SortMemoryBytes }, _budget, InFlightAsync, _time, run.Reporter, ct);
            if (outcome.Outcome == "nothing-to-do")
                lock (_gate) _idle[(run.Table, run.Request.Job)] = (table.State.MetadataLocation, _time.GetUtcNow());
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = JobOutcome.Failed("stopped: the server shut down during the run");
        }
        catch (Exception e)
        {
            outcome = JobOutcome.Failed(e.Message);
            _logger.LogWarning(e, "Table maintenance: {Job} of {Table} failed", run.Request.Job.Name(), run.Table);
        }
        run.Finish(outcome, _time.GetUtcNow());
        try
        {
            History.Add(run);
        }
        catch (IOException e)
        {
            _logger.LogWarning(e, "Table maintenance: the run history could not be written");
        }
        Metrics.Count(run);
        if (outcome.Outcome is not ("nothing-to-do" or "dry-run"))
            _logger.LogInformation("Table maintenance: {Job} of {Table} ({Trigger}): {Outcome}: {Summary}",
                run.Request.Job.Name(), run.Table, run.Trigger, outcome.Outcome, outcome.Summary);
    }

    private Task<IReadOnlySet<string>> InFlightAsync(CancellationToken ct) => Task.FromResult(InFlightFiles.Read(_pipelinesDirectory));
}
