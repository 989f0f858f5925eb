using System.Diagnostics.Metrics;
using DataPlane.Database.Execution;
using DataPlane.Database.Log;
using DataPlane.Database.Native;
using DataPlane.Database.Primary;
using Microsoft.Extensions.Logging;

namespace DataPlane.Database.Replication;

/// <summary>
/// A read-only copy: bootstraps from the primary's snapshot, then applies the log in order, each
/// batch in one transaction that also records the position, so a restart resumes where it stopped.
/// Reads wait until the copy has applied the session's bookmark.
/// </summary>
internal sealed class Replica : IAsyncDisposable
{
    private readonly string _directory;
    private readonly IReplicationSource _source;
    private readonly DatabaseOptions _options;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private SqliteLink? _applier;
    private LinkPool? _readers;
    private WalCheckpointer? _checkpointer;
    private bool _ready;
    private int _activeReads;
    private Task? _loop;
    private long _primaryPosition;

    public Replica(string id, string directory, IReplicationSource source, DatabaseOptions options, ILogger logger)
    {
        Id = id;
        _directory = directory;
        _source = source;
        _options = options;
        _logger = logger;
        _path = Path.Combine(directory, "replica.sqlite");
        Directory.CreateDirectory(directory);
    }

    public string Id { get; }

    /// <summary>The last position applied and visible to reads here.</summary>
    public PositionSignal Applied { get; } = new(0);

    public LagHistogram Lag { get; } = new();

    private KeyValuePair<string, object?>[] _applyLagTags = [];
    private Histogram<double>? _applyLag;

    /// <summary>Records each applied transaction's lag (durable on the primary to visible here) on <paramref name="histogram"/>, in seconds.</summary>
    public void MeasureApplyLag(Histogram<double> histogram, string database, string kind)
    {
        _applyLagTags = [new("database", database), new("kind", kind), new("replica", Id)];
        Volatile.Write(ref _applyLag, histogram);
    }

    /// <summary>
    /// Called on the apply loop with the first and last position of each batch once it is visible to
    /// reads: the write benchmark times each transaction from its acknowledgement to here.
    /// </summary>
    internal Action<long, long>? AppliedObserver { get; set; }

    public long PrimaryPosition => Math.Max(Volatile.Read(ref _primaryPosition), Applied.Current);

    public int Bootstraps { get; private set; }

    public bool IsReady => Volatile.Read(ref _ready);

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Runs a read once this copy has applied <paramref name="minPosition"/>; null means "ask the primary".</summary>
    public async Task<QueryResult?> TryReadAsync(IReadOnlyList<SqlStatement> statements, long minPosition, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!await Applied.WaitAsync(minPosition, wait, cancellationToken)) return null;
        LinkPool readers;
        lock (_gate)
        {
            if (!_ready || _readers is null) return null;
            readers = _readers;
            _activeReads++;
        }
        try
        {
            var link = await readers.RentAsync(cancellationToken);
            bool broken = false;
            try
            {
                var results = ReadExecution.Run(link, statements, _options.ResultBudget(), _options.StatementTimeout, cancellationToken, out long position);
                return results is null ? null : new QueryResult { Results = results, Position = position, ServedBy = Id };
            }
            catch (DatabaseException e) when (e.Kind == DatabaseErrorKind.BadRequest)
            {
                // The primary gives the authoritative answer (it may know a table this copy has not seen yet).
                return null;
            }
            catch (Exception e) when (e is not DatabaseException and not OperationCanceledException)
            {
                broken = true;
                throw;
            }
            finally
            {
                readers.Return(link, broken);
            }
        }
        finally
        {
            lock (_gate) _activeReads--;
        }
    }

    public string ContentHash(out long position)
    {
        using var link = new SqliteLink(_path, readOnly: true, synchronous: "NORMAL");
        return Execution.ContentHash.Compute(link, out position);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        int failures = 0;
        OpenExisting();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!IsReady) await BootstrapAsync(cancellationToken);
                var batch = await _source.ReadLogAsync(Id, Applied.Current, _options.LogPollWait, cancellationToken);
                Volatile.Write(ref _primaryPosition, batch.PrimaryPosition);
                if (batch.Entries.Count > 0) Apply(batch.Entries);
                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (LogTruncatedException e)
            {
                _logger.LogWarning("Replica {Replica} fell behind log truncation ({Message}); re-bootstrapping", Id, e.Message);
                MarkNotReady();
            }
            catch (ReplicaDivergedException e)
            {
                _logger.LogError("Replica {Replica} diverged ({Message}); re-bootstrapping", Id, e.Message);
                MarkNotReady();
            }
            catch (Exception e)
            {
                failures++;
                if (failures == 1 || failures % 50 == 0) _logger.LogWarning(e, "Replica {Replica} could not pull the log; retrying", Id);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * failures)), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private void Apply(IReadOnlyList<LogEntry> entries)
    {
        if (entries[0].Position != Applied.Current + 1)
            throw new ReplicaDivergedException($"Expected log position {Applied.Current + 1} but got {entries[0].Position}.");
        LogApplier.ApplyBatch(_applier!, entries);
        long now = Clock.NowMicros();
        var applyLag = Volatile.Read(ref _applyLag);
        foreach (var entry in entries)
        {
            long lag = Math.Max(0, now - (entry.DurableAtMicros != 0 ? entry.DurableAtMicros : entry.CommittedAtMicros));
            Lag.Record(lag);
            applyLag?.Record(lag / 1e6, _applyLagTags);
        }
        Applied.Advance(entries[^1].Position);
        AppliedObserver?.Invoke(entries[0].Position, entries[^1].Position);
    }

    private void OpenExisting()
    {
        if (!File.Exists(_path)) return;
        try
        {
            var link = new SqliteLink(_path, readOnly: false, synchronous: "NORMAL", manualCheckpoints: true);
            long position = LogApplier.ReadPosition(link);
            _applier = link;
            _checkpointer = new WalCheckpointer(_path);
            _readers = new LinkPool(_path, _options.ReadConnections);
            Applied.Reset(position);
            lock (_gate) _ready = true;
            _logger.LogInformation("Replica {Replica} resumes at position {Position}", Id, position);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Replica {Replica} could not reopen {Path}; bootstrapping", Id, _path);
            _applier?.Dispose();
            _applier = null;
        }
    }

    private void MarkNotReady()
    {
        lock (_gate) _ready = false;
    }

    private async Task BootstrapAsync(CancellationToken cancellationToken)
    {
        MarkNotReady();
        // Reads in flight finish on the old file; new ones go to the primary meanwhile.
        while (true)
        {
            lock (_gate) if (_activeReads == 0) break;
            await Task.Delay(5, cancellationToken);
        }
        _readers?.Dispose();
        _readers = null;
        _checkpointer?.Dispose();
        _checkpointer = null;
        _applier?.Dispose();
        _applier = null;
        string temp = Path.Combine(_directory, "bootstrap.tmp");
        long position = await _source.DownloadSnapshotAsync(temp, cancellationToken);
        // Safe: this replica's own copy, replaced by the snapshot just downloaded; no read is using it (the wait above)
        // and this copy's connections are closed. WAL first: a crash in between leaves a copy that reopens at its own
        // recorded position or is bootstrapped again, never a stale WAL beside the new file.
        foreach (var suffix in new[] { "-wal", "-shm", "" }) File.Delete(_path + suffix);
        File.Move(temp, _path);
        _applier = new SqliteLink(_path, readOnly: false, synchronous: "NORMAL", manualCheckpoints: true);
        _checkpointer = new WalCheckpointer(_path);
        long stored = LogApplier.ReadPosition(_applier);
        if (stored != position) _logger.LogWarning("Snapshot said position {Said} but holds {Stored}", position, stored);
        _readers = new LinkPool(_path, _options.ReadConnections);
        Applied.Reset(stored);
        Bootstraps++;
        lock (_gate) _ready = true;
        _logger.LogInformation("Replica {Replica} bootstrapped at position {Position}", Id, stored);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop; } catch (OperationCanceledException) { }
        }
        MarkNotReady();
        while (true)
        {
            lock (_gate) if (_activeReads == 0) break;
            await Task.Delay(5);
        }
        _readers?.Dispose();
        _checkpointer?.Dispose();
        _applier?.Dispose();
        _stop.Dispose();
    }
}
