namespace DataPlane.Catalog.RestClient;

/// <summary>An error answer of an Iceberg REST catalog: the HTTP code and the spec's exception type (e.g. <c>CommitFailedException</c>).</summary>
public sealed class RestCatalogException(int code, string type, string message) : Exception($"{type} ({code}): {message}")
{
    public int Code { get; } = code;
    public string Type { get; } = type;
    public string ServerMessage { get; } = message;

    /// <summary>A lost race on a commit: reload the table and try again.</summary>
    public bool IsCommitConflict => Code == 409 && Type == "CommitFailedException";
    public bool IsNotFound => Code == 404;
    public bool IsAlreadyExists => Code == 409 && Type == "AlreadyExistsException";
}
