namespace DataPlane.Catalog.Catalogs;

/// <summary>A refusal of the catalog, named with the Iceberg exception type a REST client would get for it
/// (<c>NoSuchTableException</c>, <c>NoSuchNamespaceException</c>, <c>AlreadyExistsException</c>...).</summary>
public sealed class CatalogException(string type, string message) : Exception(message)
{
    public string Type { get; } = type;
    public bool IsNotFound => Type.StartsWith("NoSuch", StringComparison.Ordinal);
    public bool IsAlreadyExists => Type == "AlreadyExistsException";
}
