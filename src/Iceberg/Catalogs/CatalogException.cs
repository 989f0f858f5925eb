namespace DataPlane.Iceberg.Catalogs;

/// <summary>
/// A refusal of a catalog, named with the Iceberg exception type a REST client gets for it (<c>NoSuchTableException</c>,
/// <c>AlreadyExistsException</c>, <c>CommitFailedException</c>...): every catalog, embedded or remote, refuses with
/// these, and the REST service answers each with the status the REST spec gives its type.
/// </summary>
public sealed class CatalogException(string type, string message) : Exception(message)
{
    public string Type { get; } = type;
    public bool IsNotFound => Type.StartsWith("NoSuch", StringComparison.Ordinal) || Type == "NotFoundException";
    public bool IsAlreadyExists => Type == "AlreadyExistsException";
    public bool IsCommitFailed => Type == "CommitFailedException";

    public static CatalogException BadRequest(string message) => new("BadRequestException", message);
    public static CatalogException NoSuchNamespace(string ns) => new("NoSuchNamespaceException", $"Namespace does not exist: {ns}");
    public static CatalogException NoSuchTable(string table) => new("NoSuchTableException", $"Table does not exist: {table}");
    public static CatalogException NoSuchView(string view) => new("NoSuchViewException", $"View does not exist: {view}");
    public static CatalogException NotFound(string message) => new("NotFoundException", message);
    public static CatalogException AlreadyExists(string message) => new("AlreadyExistsException", message);
    public static CatalogException NamespaceNotEmpty(string ns, string what) => new("NamespaceNotEmptyException", $"Namespace {ns} is not empty: it holds {what}");
    public static CatalogException CommitFailed(string message) => new("CommitFailedException", message);
}
