using System.Collections.Concurrent;
using System.Text;
using DataPlane.Database.Execution;
using DataPlane.Database.Log;
using DataPlane.Database.Native;
using DataPlane.Database.Replication;
using Microsoft.Extensions.Logging;
using SQLitePCL;

namespace DataPlane.Database.Primary;

/// <summary>
/// The one copy that executes writes, one transaction at a time. Each committed transaction's row
/// changes (a session changeset) and schema statements are appended to the commit log before the
/// SQLite commit, so the log is the durable record and the database file is rebuilt from it after a crash.
/// </summary>
internal sealed class PrimaryDatabase : IReplicationSource, IDisposable
{
    private readonly string _directory;
    private readonly DatabaseOptions _options;
    private readonly ILogger _logger;
    private readonly SqliteLink _writer;
    private readonly LinkPool _readers;
    private readonly CommitLog _log;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SnapshotStore _snapshots;
    private readonly ConcurrentDictionary<string, ReplicaProgress> _replicas = new();
    private long _position;
    private long _entriesSinceSnapshot;
    private int _snapshotRunning;
    private bool _broken;
    private bool _closed;

    public PrimaryDatabase(string directory, DatabaseOptions options, ILogger logger)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
        Directory.CreateDirectory(directory);
        DatabasePath = Path.Combine(directory, "primary.sqlite");
        // The log is fsynced per commit when durability is asked for; the database file then need not be,
        // since anything it lost is replayed from the log on open.
        _writer = new SqliteLink(DatabasePath, readOnly: false, synchronous: "NORMAL", manualCheckpoints: true);
        LogApplier.EnsureMeta(_writer);
        long databasePosition = LogApplier.ReadPosition(_writer);
        _log = new CommitLog(Path.Combine(directory, "log"), databasePosition, options.SyncCommits, options.LogSegmentBytes);
        _snapshots = new SnapshotStore(Path.Combine(directory, "snapshots"));
        Recover(databasePosition);
        _readers = new LinkPool(DatabasePath, options.ReadConnections);
        _checkpointer = new WalCheckpointer(DatabasePath);
    }

    private readonly WalCheckpointer _checkpointer;

    public string DatabasePath { get; }

    /// <summary>Position of the last committed transaction.</summary>
    public long Position => Volatile.Read(ref _position);

    public long LogFloor => _log.FloorPosition;

    public long? LatestSnapshotPosition => _snapshots.Latest?.Position;

    internal CommitLog Log => _log;

    /// <summary>A write batch holds the write lock (tests watch a runaway one).</summary>
    internal bool WriteLockHeld => _writeLock.CurrentCount == 0;

    internal int ReadConnectionsInUse => _readers.InUse;

    public IReadOnlyCollection<ReplicaProgress> Replicas => [.. _replicas.Values];

    /// <summary>Runs a read on the latest committed state; null when a statement writes.</summary>
    public async Task<QueryResult?> TryReadAsync(IReadOnlyList<SqlStatement> statements, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        SqliteLink link;
        try
        {
            link = await _readers.RentAsync(cancellationToken);
        }
        catch (Exception) when (Volatile.Read(ref _closed))
        {
            throw Closed(); // the folder may be gone: no connection opens there
        }
        bool broken = false;
        try
        {
            var results = ReadExecution.Run(link, statements, _options.ResultBudget(), _options.StatementTimeout, cancellationToken, out long position);
            return results is null ? null : new QueryResult { Results = results, Position = position, ServedBy = "primary" };
        }
        catch (Exception e) when (e is not DatabaseException and not OperationCanceledException)
        {
            broken = true;
            throw;
        }
        finally
        {
            _readers.Return(link, broken);
        }
    }

    public async Task<QueryResult> WriteAsync(IReadOnlyList<SqlStatement> statements, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfClosed();
            if (_broken) throw new DatabaseException(DatabaseErrorKind.Unavailable, "The primary could not commit to its log; restart it.", "primary_unavailable");
            return WriteLocked(statements, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Runs the batch in one transaction under the statement time limit and the request's cancellation; a stopped batch
    /// is rolled back like a failed one. The commit itself (log append, then COMMIT) is never stopped.
    /// </summary>
    private QueryResult WriteLocked(IReadOnlyList<SqlStatement> statements, CancellationToken cancellationToken)
    {
        var link = _writer;
        var results = new List<StatementResult>(statements.Count);
        var budget = _options.ResultBudget();
        var pieces = new List<LogPiece>(1);
        link.Exec("BEGIN IMMEDIATE");
        ChangesetCapture? capture = null;
        try
        {
            capture = new ChangesetCapture(link.NativeHandle);
            using var limit = link.Limit(_options.StatementTimeout, cancellationToken);
            foreach (var statement in statements)
            {
                link.ForEachStatement(statement.Sql, stmt =>
                {
                    if (link.Guard.CreatesTableAsSelect)
                    {
                        AddChangeset(capture, pieces);
                        capture.Dispose();
                        string table = link.Guard.CreatedTable!;
                        bool existed = TableExists(link, table);
                        results.Add(link.Run(stmt, statement, budget));
                        capture = new ChangesetCapture(link.NativeHandle);
                        if (!existed) ReplicateTableAsSelect(link, table, pieces);
                    }
                    else if (link.Guard.ChangesSchema)
                    {
                        AddChangeset(capture, pieces);
                        capture.Dispose();
                        results.Add(link.Run(stmt, statement, budget));
                        RefuseReservedNames(link);
                        pieces.Add(new LogPiece(LogPieceKind.Statement, Encoding.UTF8.GetBytes(SqliteLink.TextOf(stmt))));
                        capture = new ChangesetCapture(link.NativeHandle);
                    }
                    else
                    {
                        results.Add(link.Run(stmt, statement, budget));
                    }
                    if (raw.sqlite3_get_autocommit(link.Handle) != 0)
                        throw new DatabaseException(DatabaseErrorKind.BadRequest, "The statement ended the batch's transaction; use a batch instead of transaction control.", "transaction_ended");
                    return true;
                });
            }
            limit.Dispose();
            AddChangeset(capture, pieces);
            capture.Dispose();
            capture = null;
        }
        catch
        {
            capture?.Dispose();
            if (raw.sqlite3_get_autocommit(link.Handle) == 0) link.Exec("ROLLBACK");
            throw;
        }

        if (pieces.Count == 0)
        {
            link.Exec("COMMIT");
            return new QueryResult { Results = results, Position = Position, ServedBy = "primary" };
        }

        long position = Position + 1;
        var entry = new LogEntry(position, Clock.NowMicros(), LogPayload.Encode(pieces));
        try
        {
            LogApplier.WritePosition(link, position);
            _log.Append(entry);
        }
        catch
        {
            link.Exec("ROLLBACK");
            throw;
        }
        try
        {
            link.Exec("COMMIT");
        }
        catch (Exception e)
        {
            // The log already holds the entry: make the database match it rather than lose it.
            _logger.LogError(e, "Commit failed after the log append at position {Position}; replaying it from the log", position);
            if (raw.sqlite3_get_autocommit(link.Handle) == 0) link.Exec("ROLLBACK");
            try
            {
                LogApplier.ApplyBatch(link, [entry]);
            }
            catch
            {
                _broken = true;
                throw;
            }
        }
        Volatile.Write(ref _position, position);
        if (++_entriesSinceSnapshot >= _options.SnapshotEveryEntries)
        {
            _entriesSinceSnapshot = 0;
            _ = Task.Run(() => TakeSnapshotAndTruncate());
        }
        return new QueryResult { Results = results, Position = position, ServedBy = "primary" };
    }

    /// <summary>
    /// ALTER TABLE ... RENAME TO names the new table only in its SQL text, which the authorizer never sees: once a schema
    /// change has run, no object but the host's own may carry the reserved prefix (the batch is rolled back).
    /// </summary>
    private static void RefuseReservedNames(SqliteLink link)
    {
        string prefix = StatementGuard.InternalTablePrefix;
        string? name = link.ScalarText(
            $"SELECT name FROM sqlite_schema WHERE lower(substr(name, 1, {prefix.Length})) = '{prefix}' AND name <> '{LogApplier.MetaTable}' LIMIT 1");
        if (name is not null)
            throw new DatabaseException(DatabaseErrorKind.Forbidden,
                $"The name '{name}' is reserved: names starting with '{prefix}' are kept for replication bookkeeping.", "statement_refused");
    }

    private static bool TableExists(SqliteLink link, string table) =>
        link.ScalarInt64($"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = {SqliteLink.QuoteLiteral(table)}") > 0;

    /// <summary>
    /// CREATE TABLE ... AS SELECT inserts its rows without the session seeing them, and replaying the
    /// statement would re-run the SELECT (random(), datetime('now'), rows since changed). So the log gets
    /// the table's plain CREATE TABLE as SQLite stored it, then its rows as a changeset: the table is
    /// moved aside, created again empty and refilled under the capture that <paramref name="pieces"/> continues with.
    /// </summary>
    private void ReplicateTableAsSelect(SqliteLink link, string table, List<LogPiece> pieces)
    {
        string created = link.ScalarText($"SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = {SqliteLink.QuoteLiteral(table)}")
            ?? throw new InvalidOperationException($"CREATE TABLE ... AS SELECT left no table '{table}'.");
        pieces.Add(new LogPiece(LogPieceKind.Statement, Encoding.UTF8.GetBytes(created)));
        string name = SqliteLink.QuoteIdentifier(table), aside = SqliteLink.QuoteIdentifier(StatementGuard.InternalTablePrefix + "ctas");
        link.Exec($"ALTER TABLE main.{name} RENAME TO {aside}");
        link.Exec(created);
        link.Exec($"INSERT INTO main.{name} SELECT * FROM main.{aside} ORDER BY rowid");
        link.Exec($"DROP TABLE main.{aside}");
    }

    private void AddChangeset(ChangesetCapture capture, List<LogPiece> pieces)
    {
        // The session extension runs its own queries on the connection; they are not the user's.
        _writer.Guard.Internal = true;
        byte[]? changeset;
        try
        {
            changeset = capture.TakeChangeset();
        }
        catch (InvalidOperationException)
        {
            // The session extension's own queries run under the statement limit too.
            _writer.ThrowIfStopped();
            throw;
        }
        finally
        {
            _writer.Guard.Internal = false;
        }
        if (changeset is not null) pieces.Add(new LogPiece(LogPieceKind.Changeset, changeset));
    }

    /// <summary>Writes a snapshot, then drops log segments every live replica and the snapshot are past.</summary>
    public void TakeSnapshotAndTruncate()
    {
        if (Interlocked.Exchange(ref _snapshotRunning, 1) == 1) return;
        try
        {
            _log.RollIfNotEmpty();
            _snapshots.Create(DatabasePath);
            Truncate();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Snapshot of {Directory} failed", _directory);
        }
        finally
        {
            Volatile.Write(ref _snapshotRunning, 0);
        }
    }

    /// <summary>Truncates through the lowest position still needed by a live replica or the latest snapshot.</summary>
    public void Truncate()
    {
        var latest = _snapshots.Latest;
        if (latest is null) return;
        long through = latest.Position;
        var cutoff = _options.Time.GetUtcNow().UtcDateTime - _options.ReplicaLease;
        foreach (var replica in _replicas.Values)
        {
            if (replica.LastSeenUtc >= cutoff) through = Math.Min(through, replica.AppliedPosition);
        }
        _log.TruncateThrough(through);
    }

    public Task<long> DownloadSnapshotAsync(string destinationPath, CancellationToken cancellationToken)
    {
        var snapshot = EnsureSnapshot();
        File.Copy(snapshot.Path, destinationPath, overwrite: true);
        return Task.FromResult(snapshot.Position);
    }

    /// <summary>The latest snapshot, taking one first when there is none yet.</summary>
    public SnapshotInfo EnsureSnapshot()
    {
        ThrowIfClosed();
        var latest = _snapshots.Latest;
        if (latest is not null && latest.Position >= _log.FloorPosition) return latest;
        lock (_snapshots) return _snapshots.Latest is { } again && again.Position >= _log.FloorPosition ? again : _snapshots.Create(DatabasePath);
    }

    public async Task<LogBatch> ReadLogAsync(string replicaId, long after, TimeSpan wait, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        Report(replicaId, after);
        var entries = _log.ReadAfter(after, _options.LogBatchEntries, _options.LogBatchBytes);
        if (entries.Count == 0 && wait > TimeSpan.Zero)
        {
            await _log.Signal.WaitAsync(after + 1, wait, cancellationToken);
            entries = _log.ReadAfter(after, _options.LogBatchEntries, _options.LogBatchBytes);
        }
        return new LogBatch(entries, _log.LastPosition);
    }

    /// <summary>Records how far a replica has applied (it asks for entries after that).</summary>
    public void Report(string replicaId, long appliedPosition)
    {
        var progress = _replicas.GetOrAdd(replicaId, id => new ReplicaProgress(id));
        progress.AppliedPosition = appliedPosition;
        progress.LastSeenUtc = _options.Time.GetUtcNow().UtcDateTime;
    }

    public void Forget(string replicaId) => _replicas.TryRemove(replicaId, out _);

    /// <summary>Milliseconds since the oldest entry a replica at <paramref name="applied"/> has not applied was committed.</summary>
    public double LagMilliseconds(long applied)
    {
        if (applied >= _log.LastPosition) return 0;
        try
        {
            var next = _log.ReadAfter(applied, 1, long.MaxValue);
            return next.Count == 0 ? 0 : Math.Max(0, (Clock.NowMicros() - next[0].CommittedAtMicros) / 1000.0);
        }
        catch (LogTruncatedException)
        {
            return double.PositiveInfinity;
        }
    }

    public string ContentHash() => Execution.ContentHash.Compute(_writer);

    private void Recover(long databasePosition)
    {
        if (_log.FloorPosition > databasePosition)
            throw new InvalidOperationException(
                $"The database file in {_directory} is at position {databasePosition} but the log starts after {_log.FloorPosition}; restore it from a snapshot in {Path.Combine(_directory, "snapshots")}.");
        long position = databasePosition;
        while (true)
        {
            var entries = _log.ReadAfter(position, 1024, 64 << 20);
            if (entries.Count == 0) break;
            LogApplier.ApplyBatch(_writer, entries);
            position = entries[^1].Position;
            _logger.LogInformation("Replayed log of {Directory} through position {Position}", _directory, position);
        }
        _position = Math.Max(position, _log.LastPosition);
    }

    /// <summary>
    /// Closes the files once the write in progress is done. Requests that found this database before (a delete of it
    /// may remove its folder next) finish reads on the connections they hold; later ones, and writes that waited for
    /// the lock, are refused instead of opening files in a folder that may be gone or waiting for a lock never released.
    /// </summary>
    public void Dispose()
    {
        _writeLock.Wait();
        Volatile.Write(ref _closed, true);
        while (Volatile.Read(ref _snapshotRunning) == 1) Thread.Sleep(5);
        _checkpointer.Dispose();
        _readers.Dispose();
        _writer.Dispose();
        _log.Dispose();
        _writeLock.Release(); // the writes that waited see _closed
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed)) throw Closed();
    }

    private DatabaseException Closed() => new(DatabaseErrorKind.NotFound,
        "The database was closed while this request waited for it (it was deleted, or the server is stopping).", "database_not_found");
}
