using DataPlane.Catalog.Rest;
using DataPlane.Storage;

namespace DataPlane.Hosting;

/// <summary>The Iceberg REST catalog's options from <c>dataplane serve</c>'s: SQLite under <c>&lt;data&gt;/catalog/</c>, the configured warehouse and S3.</summary>
internal static class RestCatalogSettings
{
    public static RestCatalogOptions From(DataPlaneOptions options) => new()
    {
        WarehouseLocation = options.WarehouseLocation,
        DatabasePath = Path.Combine(options.DataDirectory, "catalog", "catalog.db"),
        S3 = options.S3.Endpoint is null && options.S3.AccessKey is null
            ? null
            : new S3Options { Endpoint = options.S3.Endpoint, AccessKey = options.S3.AccessKey, SecretKey = options.S3.SecretKey, Region = options.S3.Region },
    };
}
