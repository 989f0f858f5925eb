namespace DataPlane.Database.Execution;

public enum DatabaseErrorKind
{
    /// <summary>The SQL or its parameters are wrong (SQLite's own message).</summary>
    BadRequest,

    /// <summary>The statement is refused by policy, or the token may not write.</summary>
    Forbidden,

    NotFound,
    Conflict,
    Unauthorized,

    /// <summary>A statement ran past the time limit and was stopped.</summary>
    Timeout,

    Unavailable,
}

/// <summary>An error a client caused or can act on, with the message to show it.</summary>
public sealed class DatabaseException(DatabaseErrorKind kind, string message, string code) : Exception(message)
{
    public DatabaseErrorKind Kind { get; } = kind;

    /// <summary>A stable machine-readable code, such as "sqlite_error" or "statement_refused".</summary>
    public string Code { get; } = code;
}
