using DataPlane.Iceberg.Catalogs;

namespace DataPlane.Catalog.Store;

/// <summary>
/// A table's location in the warehouse as the catalog stores and compares it: the warehouse's own spelling, no
/// trailing '/', no percent-escapes (<see cref="Commits.MetadataFiles.ToTableLocation"/> makes them). Two tables' locations
/// must not overlap (one equal to, inside or around the other): a purge of one would then reach the other's files.
/// </summary>
internal sealed record TableLocation(string WarehouseUri, string WarehouseKey)
{
    public string Location { get; } = WarehouseUri + "/" + WarehouseKey;

    /// <summary>The location and every folder above it inside the warehouse: the places a table holding this one would be at.</summary>
    public IReadOnlyList<string> SelfAndAncestors
    {
        get
        {
            var list = new List<string> { Location };
            for (var slash = WarehouseKey.LastIndexOf('/'); slash > 0; slash = WarehouseKey.LastIndexOf('/', slash - 1))
                list.Add(WarehouseUri + "/" + WarehouseKey[..slash]);
            return list;
        }
    }

    /// <summary>How <paramref name="other"/> (another table's location) overlaps this one, for the refusal's message.</summary>
    public string Relation(string other) =>
        other == Location ? "is the location of"
        : other.StartsWith(Location + "/", StringComparison.Ordinal) ? "holds the location of"
        : "is inside the location of";

    /// <summary>The refusal: 409 for a table being created or registered (the location is taken), 400 for a commit that moves a table there.</summary>
    public CatalogException Taken(string use, bool create)
    {
        var message = $"Location {Location} {use}. A table's location must not be, contain or be inside another table's (or hold a namespace's folder): " +
                      "dropping one with purge would delete the other's files. Choose another location.";
        return create ? CatalogException.AlreadyExists(message) : CatalogException.BadRequest(message);
    }
}
