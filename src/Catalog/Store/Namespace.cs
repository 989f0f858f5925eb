using DataPlane.Iceberg.Catalogs;
namespace DataPlane.Catalog.Store;

/// <summary>
/// A namespace: one or more levels (<c>["accounting", "tax"]</c>). In a URL path the levels are joined by the unit
/// separator 0x1F (<c>accounting%1Ftax</c>), the spec's default <c>namespace-separator</c>; the store keys rows by
/// the same joined form, so a parent's children are the rows whose parent key equals its key.
/// </summary>
internal readonly record struct Namespace
{
    public const char Separator = '\u001f';

    public Namespace(IReadOnlyList<string> levels)
    {
        if (levels.Count == 0)
            throw CatalogException.BadRequest("A namespace needs at least one level, got [].");
        foreach (var level in levels)
            if (string.IsNullOrEmpty(level) || level.Contains(Separator))
                throw CatalogException.BadRequest($"Invalid namespace level '{level}' in {Show(levels)}: levels must be non-empty and must not contain 0x1F.");
        Levels = levels;
        Key = string.Join(Separator, levels);
    }

    public IReadOnlyList<string> Levels { get; }

    /// <summary>The levels joined by 0x1F: the store's key and the URL path form.</summary>
    public string Key { get; }

    /// <summary>The parent's key; "" for a top-level namespace.</summary>
    public string ParentKey => Levels.Count == 1 ? "" : string.Join(Separator, Levels.Take(Levels.Count - 1));

    public static Namespace FromKey(string key) => new(key.Split(Separator));

    /// <summary>A namespace to create: each level must also be a usable folder and URL segment (<see cref="PathSegment"/>),
    /// which namespaces only looked up are not held to, so that one created before the rule can still be reached and dropped.</summary>
    public static Namespace ForCreate(IReadOnlyList<string> levels)
    {
        foreach (var level in levels) PathSegment.Check(level, "namespace level");
        return new Namespace(levels);
    }

    /// <summary>Decodes the <c>{namespace}</c> path parameter (already URL-decoded by routing).</summary>
    public static Namespace FromPath(string? value)
    {
        if (string.IsNullOrEmpty(value))
            throw CatalogException.BadRequest("The namespace path parameter is empty.");
        return new Namespace(value.Split(Separator));
    }

    public string Qualify(string name) => string.Join('.', Levels) + "." + name;

    public override string ToString() => string.Join('.', Levels);

    private static string Show(IReadOnlyList<string> levels) => "[" + string.Join(", ", levels.Select(l => $"\"{l}\"")) + "]";
}
