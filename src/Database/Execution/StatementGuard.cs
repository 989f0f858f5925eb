using SQLitePCL;

namespace DataPlane.Database.Execution;

/// <summary>
/// SQLite's authorizer, consulted while each statement is prepared: refuses whatever could reach
/// outside the database file or break deterministic replication, and notes schema changes so the
/// primary can log them as statements.
/// </summary>
internal sealed class StatementGuard
{
    // sqlite3.h action codes.
    private const int CreateIndex = 1, CreateTable = 2, CreateTempIndex = 3, CreateTempTable = 4, CreateTempTrigger = 5,
        CreateTempView = 6, CreateTrigger = 7, CreateView = 8, Delete = 9, DropIndex = 10, DropTable = 11,
        DropTempIndex = 12, DropTempTable = 13, DropTempTrigger = 14, DropTempView = 15, DropTrigger = 16, DropView = 17,
        Insert = 18, Pragma = 19, Read = 20, Select = 21, Transaction = 22, Update = 23, Attach = 24, Detach = 25,
        AlterTable = 26, Reindex = 27, Analyze = 28, CreateVtable = 29, DropVtable = 30, Function = 31, Savepoint = 32;

    private const int SqliteOk = 0, SqliteDeny = 1;

    /// <summary>Reading pragmas that neither change a file nor the connection.</summary>
    private static readonly HashSet<string> AllowedPragmas = new(StringComparer.OrdinalIgnoreCase)
    {
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
        "foreign_key_check", "integrity_check", "quick_check", "collation_list", "function_list", "pragma_list",
        "compile_options", "page_count", "page_size", "freelist_count", "encoding", "user_version", "schema_version",
        "application_id", "data_version", "foreign_keys", "journal_mode", "synchronous", "module_list",
    };

    internal const string InternalTablePrefix = "_dataplane_";

    public static readonly string AllowedPragmaList = string.Join(", ", AllowedPragmas.Order(StringComparer.Ordinal));

    /// <summary>Set while the host runs its own bookkeeping statements.</summary>
    public bool Internal { get; set; }

    /// <summary>Why the statement being prepared was refused, if it was.</summary>
    public string? DeniedReason { get; private set; }

    /// <summary>The statement being prepared changes the schema (logged as a statement, not a changeset).</summary>
    public bool ChangesSchema { get; private set; }

    /// <summary>The statement being prepared is CREATE TABLE ... AS SELECT, creating <see cref="CreatedTable"/>.</summary>
    public bool CreatesTableAsSelect => CreatedTable is not null && _selects;

    /// <summary>The table the statement being prepared creates, if it creates one.</summary>
    public string? CreatedTable { get; private set; }

    private bool _selects;

    public void Install(sqlite3 db) => raw.sqlite3_set_authorizer(db, (strdelegate_authorizer)Authorize, null);

    /// <summary>Call before preparing each statement.</summary>
    public void BeginStatement()
    {
        DeniedReason = null;
        ChangesSchema = false;
        CreatedTable = null;
        _selects = false;
    }

    /// <summary>Checks made once the whole statement is known; returns the refusal reason, if any.</summary>
    public string? EndStatement(string statementText)
    {
        if (DeniedReason is not null) return DeniedReason;
        if (Internal) return null;
        string keyword = LeadingKeyword(statementText);
        if (keyword.Equals("VACUUM", StringComparison.OrdinalIgnoreCase))
            return "VACUUM is refused: it rewrites the database file (VACUUM INTO writes another file) and renumbers rows that replicas rely on.";
        return null;
    }

    private int Authorize(object userData, int action, string? arg1, string? arg2, string? database, string? trigger)
    {
        if (Internal) return SqliteOk;
        string? reason = action switch
        {
            Attach => $"ATTACH is refused: a statement may only reach its own database file (got ATTACH of '{arg1}').",
            Detach => "DETACH is refused: a statement may only reach its own database file.",
            Pragma when !AllowedPragmas.Contains(arg1 ?? "") =>
                $"PRAGMA {arg1} is refused: it can change the database file or the shared connection. Allowed pragmas: {AllowedPragmaList}.",
            Pragma when arg2 is not null && !IsReadOnlyPragmaCall(arg1!) =>
                $"Setting PRAGMA {arg1} is refused: it changes the database file or the shared connection; reading it is allowed.",
            Function when string.Equals(arg2, "load_extension", StringComparison.OrdinalIgnoreCase) =>
                "load_extension() is refused: no statement may load native code into the server.",
            Transaction or Savepoint =>
                "Transaction statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) are refused: send a batch, which runs as one transaction.",
            CreateTempIndex or CreateTempTable or CreateTempTrigger or CreateTempView or DropTempIndex or DropTempTable or DropTempTrigger or DropTempView =>
                "TEMP objects are refused: the connection is shared between requests and temporary objects are not replicated.",
            CreateTrigger or DropTrigger =>
                "Triggers are refused: replicas apply row changes that already include what a trigger did, so it would run twice.",
            CreateVtable or DropVtable =>
                $"Virtual tables are refused ('{arg1}'): their contents are not captured by row-change replication.",
            _ when ReservedName(action, arg1, arg2) is { } reserved =>
                $"Table '{reserved}' is reserved for replication bookkeeping.",
            _ => null,
        };
        if (reason is not null)
        {
            DeniedReason ??= reason;
            return SqliteDeny;
        }
        switch (action)
        {
            case CreateTable:
                CreatedTable = arg1;
                ChangesSchema = true;
                break;
            case CreateIndex or CreateView or DropIndex or DropTable or DropView or AlterTable or Reindex or Analyze:
                ChangesSchema = true;
                break;
            case Select:
                _selects = true;
                break;
        }
        return SqliteOk;
    }

    /// <summary>Pragmas that take an argument only to say what to read, such as table_info(t).</summary>
    private static bool IsReadOnlyPragmaCall(string pragma) =>
        pragma.ToLowerInvariant() is "table_info" or "table_xinfo" or "table_list" or "index_list" or "index_info"
            or "index_xinfo" or "foreign_key_list" or "foreign_key_check" or "integrity_check" or "quick_check";

    /// <summary>The reserved name a statement touches, if any. ALTER TABLE passes the database as arg1, the table as arg2.</summary>
    private static string? ReservedName(int action, string? arg1, string? arg2)
    {
        string? name = action switch
        {
            Read or Insert or Update or Delete or CreateTable or DropTable or CreateIndex or DropIndex or CreateView or DropView => arg1,
            AlterTable => arg2,
            _ => null,
        };
        return IsReserved(name) ? name : null;
    }

    private static bool IsReserved(string? name) => name is not null && name.StartsWith(InternalTablePrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The first keyword, skipping whitespace and comments.</summary>
    internal static string LeadingKeyword(string sql)
    {
        int i = 0;
        while (i < sql.Length)
        {
            if (char.IsWhiteSpace(sql[i])) { i++; continue; }
            if (i + 1 < sql.Length && sql[i] == '-' && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                continue;
            }
            if (i + 1 < sql.Length && sql[i] == '/' && sql[i + 1] == '*')
            {
                int end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
                continue;
            }
            break;
        }
        int start = i;
        while (i < sql.Length && char.IsAsciiLetter(sql[i])) i++;
        return sql[start..i];
    }
}
