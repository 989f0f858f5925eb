namespace DataPlane.Database.Sessions;

/// <summary>Where a request may be served, from the session's <c>X-DataPlane-Bookmark</c> header.</summary>
public readonly record struct SessionConstraint(SessionStart Start, long MinPosition)
{
    public const string FirstUnconstrained = "first-unconstrained";
    public const string FirstPrimary = "first-primary";

    public static readonly SessionConstraint Primary = new(SessionStart.FirstPrimary, 0);

    /// <summary>No header means no session: the primary answers, as without read replication.</summary>
    public static SessionConstraint Parse(string? header)
    {
        if (string.IsNullOrEmpty(header) || header == FirstPrimary) return Primary;
        if (header == FirstUnconstrained) return new(SessionStart.FirstUnconstrained, 0);
        if (Bookmark.TryParse(header, out long position)) return new(SessionStart.Bookmark, position);
        throw new Execution.DatabaseException(Execution.DatabaseErrorKind.BadRequest,
            $"Header {Bookmark.HeaderName} '{header}' is not valid: send '{FirstUnconstrained}', '{FirstPrimary}', or a bookmark from a previous response ({Bookmark.Width} hex digits).",
            "bad_bookmark");
    }

    public override string ToString() => Start switch
    {
        SessionStart.FirstPrimary => FirstPrimary,
        SessionStart.FirstUnconstrained => FirstUnconstrained,
        _ => Bookmark.Format(MinPosition),
    };
}

public enum SessionStart
{
    FirstUnconstrained,
    FirstPrimary,
    Bookmark,
}
