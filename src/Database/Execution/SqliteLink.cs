using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace DataPlane.Database.Execution;

/// <summary>
/// One SQLite connection driven through the raw API, so that statements can be classified
/// (read-only or not, schema change or not) as they are prepared, under the authorizer.
/// </summary>
internal sealed class SqliteLink : IDisposable
{
    private const int SqliteInterrupt = 9, SqliteRow = 100, SqliteDone = 101;
    private const int StmtStatusFullscanStep = 1;

    /// <summary>Virtual machine steps between two looks at the time limit and the request's cancellation.</summary>
    private const int ProgressSteps = 1000;

    private readonly SqliteConnection _connection;
    private readonly delegate_progress _progress;
    private long _deadline = long.MaxValue;
    private TimeSpan _limit;
    private CancellationToken _cancellation;
    private bool _pastLimit;

    public SqliteLink(string path, bool readOnly, string synchronous, bool manualCheckpoints = false)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
        };
        _connection = new SqliteConnection(builder.ToString());
        _connection.Open();
        Handle = _connection.Handle!;
        Exec("PRAGMA busy_timeout=10000");
        Exec($"PRAGMA synchronous={synchronous}");
        if (!readOnly) Exec("PRAGMA journal_mode=WAL");
        // Writers leave checkpoints to a WalCheckpointer; a final one runs when the last connection closes.
        if (!readOnly && manualCheckpoints) Exec("PRAGMA wal_autocheckpoint=0");
        Guard.Install(Handle);
        _progress = OnProgress;
        raw.sqlite3_progress_handler(Handle, ProgressSteps, _progress, null);
    }

    public sqlite3 Handle { get; }

    public nint NativeHandle => Handle.DangerousGetHandle();

    public StatementGuard Guard { get; } = new();

    /// <summary>Runs the host's own SQL, bypassing the guard.</summary>
    public void Exec(string sql)
    {
        bool was = Guard.Internal;
        Guard.Internal = true;
        try
        {
            int rc = raw.sqlite3_exec(Handle, sql, out string? error);
            if (rc == SqliteInterrupt) throw Interrupted();
            if (rc != 0) throw new InvalidOperationException($"SQLite error {rc} running '{sql}': {error ?? raw.sqlite3_errmsg(Handle).utf8_to_string()}");
        }
        finally
        {
            Guard.Internal = was;
        }
    }

    /// <summary>Runs the host's own single-value query, bypassing the guard.</summary>
    public long ScalarInt64(string sql)
    {
        bool was = Guard.Internal;
        Guard.Internal = true;
        try
        {
            Check(raw.sqlite3_prepare_v2(Handle, sql, out var stmt), sql);
            using (stmt)
            {
                return Step(stmt, sql) ? raw.sqlite3_column_int64(stmt, 0) : 0;
            }
        }
        finally
        {
            Guard.Internal = was;
        }
    }

    /// <summary>Runs the host's own single-text query, bypassing the guard; null without a row or for NULL.</summary>
    public string? ScalarText(string sql)
    {
        bool was = Guard.Internal;
        Guard.Internal = true;
        try
        {
            Check(raw.sqlite3_prepare_v2(Handle, sql, out var stmt), sql);
            using (stmt)
            {
                return Step(stmt, sql) ? raw.sqlite3_column_text(stmt, 0).utf8_to_string() : null;
            }
        }
        finally
        {
            Guard.Internal = was;
        }
    }

    /// <summary>True with a row, false when done; never mistakes an error (an interrupt among them) for "no row".</summary>
    private bool Step(sqlite3_stmt stmt, string sql)
    {
        int rc = raw.sqlite3_step(stmt);
        if (rc == SqliteRow) return true;
        if (rc == SqliteDone) return false;
        if (rc == SqliteInterrupt) throw Interrupted();
        throw new InvalidOperationException($"SQLite error {rc} running '{sql}': {raw.sqlite3_errmsg(Handle).utf8_to_string()}");
    }

    /// <summary>
    /// Until the returned scope ends, whatever runs on this connection is stopped (SQLITE_INTERRUPT, through SQLite's
    /// progress handler) once <paramref name="limit"/> has passed or <paramref name="cancellation"/> fires: the call
    /// that meets the interrupt throws a <see cref="DatabaseException"/> with code statement_timeout, or an
    /// <see cref="OperationCanceledException"/>. End the scope before COMMIT or ROLLBACK, which must not be stopped.
    /// </summary>
    public LimitScope Limit(TimeSpan limit, CancellationToken cancellation)
    {
        _limit = limit;
        _cancellation = cancellation;
        _pastLimit = false;
        _deadline = Stopwatch.GetTimestamp() + (long)Math.Min(limit.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);
        return new LimitScope(this);
    }

    internal readonly struct LimitScope(SqliteLink link) : IDisposable
    {
        public void Dispose()
        {
            link._deadline = long.MaxValue;
            link._cancellation = default;
            link._pastLimit = false;
        }
    }

    /// <summary>Throws what an interrupt means, when the limit has stopped this connection (for native calls that only report an error code).</summary>
    public void ThrowIfStopped()
    {
        if (_pastLimit || _cancellation.IsCancellationRequested) throw Interrupted();
    }

    private int OnProgress(object userData)
    {
        if (_cancellation.IsCancellationRequested) return 1;
        if (Stopwatch.GetTimestamp() < _deadline) return 0;
        _pastLimit = true;
        return 1;
    }

    private Exception Interrupted() => _pastLimit
        ? new DatabaseException(DatabaseErrorKind.Timeout,
            $"The statement ran for {_limit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s, the limit (Databases:StatementTimeoutSeconds), " +
            "and was stopped; the request changed nothing. Narrow it (a LIMIT, a WHERE on an indexed column) or split it.",
            "statement_timeout")
        : new OperationCanceledException("The request was cancelled (its client went away); its statement was stopped.", _cancellation);

    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string QuoteLiteral(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Prepares the statements of <paramref name="sql"/> one at a time, calling <paramref name="onPrepared"/>
    /// for each before it runs (which may run it, and returns false to stop: later statements may
    /// depend on this one having run).
    /// </summary>
    public void ForEachStatement(string sql, Func<sqlite3_stmt, bool> onPrepared)
    {
        // SQLite reads the text up to its first NUL and hands the NUL back as the tail: the loop would never end.
        int nul = sql.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
            throw new DatabaseException(DatabaseErrorKind.BadRequest, $"The SQL holds a NUL character (U+0000) at position {nul}; SQL text cannot contain one.", "sqlite_error");
        string remaining = sql;
        while (!string.IsNullOrWhiteSpace(remaining))
        {
            Guard.BeginStatement();
            int rc = raw.sqlite3_prepare_v2(Handle, remaining, out var stmt, out string tail);
            // A denial surfaces as SQLITE_AUTH or as SQLITE_ERROR ("not authorized to use function"): either way, give the reason.
            string? refusal = Guard.DeniedReason ?? (rc == 0 ? Guard.EndStatement(stmt is null || stmt.IsInvalid ? remaining : raw.sqlite3_sql(stmt).utf8_to_string() ?? remaining) : null);
            using (stmt)
            {
                if (refusal is not null) throw new DatabaseException(DatabaseErrorKind.Forbidden, refusal, "statement_refused");
                if (rc == SqliteInterrupt) throw Interrupted();
                if (rc != 0)
                {
                    string message = raw.sqlite3_errmsg(Handle).utf8_to_string() ?? $"SQLite error {rc}";
                    // This SQLite build does not even register load_extension; say why it is absent.
                    if (message.Contains("no such function: load_extension", StringComparison.OrdinalIgnoreCase))
                        throw new DatabaseException(DatabaseErrorKind.Forbidden, "load_extension() is refused: no statement may load native code into the server.", "statement_refused");
                    throw new DatabaseException(DatabaseErrorKind.BadRequest, message, "sqlite_error");
                }
                // Each statement consumes text; a tail as long as what was prepared would loop forever.
                if (tail.Length >= remaining.Length)
                    throw new DatabaseException(DatabaseErrorKind.BadRequest, $"SQLite could not read past '{(remaining.Length > 40 ? remaining[..40] + "..." : remaining)}'.", "sqlite_error");
                remaining = tail;
                if (stmt is null || stmt.IsInvalid) continue; // whitespace or a comment only
                if (!onPrepared(stmt)) return;
            }
        }
    }

    public static bool IsReadOnly(sqlite3_stmt stmt) => raw.sqlite3_stmt_readonly(stmt) != 0;

    public static string TextOf(sqlite3_stmt stmt) => raw.sqlite3_sql(stmt).utf8_to_string() ?? "";

    /// <summary>Binds, steps to completion and collects the rows of one prepared statement.</summary>
    public StatementResult Run(sqlite3_stmt stmt, SqlStatement statement, ResultBudget budget)
    {
        Bind(stmt, statement);
        int before = raw.sqlite3_total_changes(Handle);
        int columnCount = raw.sqlite3_column_count(stmt);
        var columns = new string[columnCount];
        for (int i = 0; i < columnCount; i++) columns[i] = raw.sqlite3_column_name(stmt, i).utf8_to_string() ?? $"column{i}";
        var rows = new List<object?[]>();
        while (true)
        {
            int rc = raw.sqlite3_step(stmt);
            if (rc == SqliteDone) break;
            if (rc == SqliteInterrupt) throw Interrupted();
            if (rc != SqliteRow)
                throw new DatabaseException(DatabaseErrorKind.BadRequest, raw.sqlite3_errmsg(Handle).utf8_to_string() ?? $"SQLite error {rc}", "sqlite_error");
            if (rows.Count >= budget.MaxRows)
                throw new DatabaseException(DatabaseErrorKind.BadRequest, $"The result has more than {budget.MaxRows} rows; add a LIMIT or page with WHERE.", "result_too_large");
            var row = new object?[columnCount];
            for (int i = 0; i < columnCount; i++)
            {
                budget.Take(raw.sqlite3_column_type(stmt, i) is raw.SQLITE_TEXT or raw.SQLITE_BLOB ? raw.sqlite3_column_bytes(stmt, i) : 8);
                row[i] = ReadColumn(stmt, i);
            }
            rows.Add(row);
        }
        long written = raw.sqlite3_total_changes(Handle) - before;
        return new StatementResult
        {
            Columns = columns,
            Rows = rows,
            RowsRead = rows.Count + raw.sqlite3_stmt_status(stmt, StmtStatusFullscanStep, 0),
            RowsWritten = written,
            LastRowId = raw.sqlite3_last_insert_rowid(Handle),
        };
    }

    public void Dispose() => _connection.Dispose();

    private static object? ReadColumn(sqlite3_stmt stmt, int i) => raw.sqlite3_column_type(stmt, i) switch
    {
        raw.SQLITE_INTEGER => raw.sqlite3_column_int64(stmt, i),
        raw.SQLITE_FLOAT => raw.sqlite3_column_double(stmt, i),
        raw.SQLITE_TEXT => raw.sqlite3_column_text(stmt, i).utf8_to_string(),
        raw.SQLITE_BLOB => raw.sqlite3_column_blob(stmt, i).ToArray(),
        _ => null,
    };

    private static void Bind(sqlite3_stmt stmt, SqlStatement statement)
    {
        int count = raw.sqlite3_bind_parameter_count(stmt);
        for (int i = 1; i <= count; i++)
        {
            string? name = raw.sqlite3_bind_parameter_name(stmt, i).utf8_to_string();
            object? value;
            if (name is null || name.StartsWith('?'))
            {
                // "?" or "?NNN": positional; index i is already NNN for the numbered form.
                if (statement.Positional is null || i > statement.Positional.Count)
                    throw new DatabaseException(DatabaseErrorKind.BadRequest,
                        $"Parameter {i} has no value: {statement.Positional?.Count ?? 0} positional parameter(s) were given.", "missing_parameter");
                value = statement.Positional[i - 1];
            }
            else
            {
                string bare = name[1..];
                if (statement.Named is null || !(statement.Named.TryGetValue(name, out value) || statement.Named.TryGetValue(bare, out value)))
                {
                    // A named parameter may also be given positionally, by its index.
                    if (statement.Positional is not null && i <= statement.Positional.Count) value = statement.Positional[i - 1];
                    else throw new DatabaseException(DatabaseErrorKind.BadRequest, $"Parameter '{name}' has no value in \"params\".", "missing_parameter");
                }
            }
            int rc = value switch
            {
                null => raw.sqlite3_bind_null(stmt, i),
                long l => raw.sqlite3_bind_int64(stmt, i, l),
                int n => raw.sqlite3_bind_int64(stmt, i, n),
                bool b => raw.sqlite3_bind_int64(stmt, i, b ? 1 : 0),
                double d => raw.sqlite3_bind_double(stmt, i, d),
                string s => raw.sqlite3_bind_text(stmt, i, s),
                byte[] bytes => raw.sqlite3_bind_blob(stmt, i, bytes),
                _ => throw new DatabaseException(DatabaseErrorKind.BadRequest, $"Parameter {i} has an unsupported type {value.GetType().Name}.", "bad_parameter"),
            };
            if (rc != 0) throw new DatabaseException(DatabaseErrorKind.BadRequest, $"Binding parameter {i} failed with SQLite error {rc}.", "bad_parameter");
        }
    }

    private static void Check(int rc, string sql)
    {
        if (rc != 0) throw new InvalidOperationException($"SQLite error {rc} preparing '{sql}'.");
    }
}
