using DataPlane.Catalog.Rest;
using DataPlane.Http;
using DataPlane.Storage;

namespace DataPlane.Hosting;

/// <summary>
/// The Iceberg REST catalog's options from <c>dataplane serve</c>'s: SQLite under <c>&lt;data&gt;/catalog/</c>, the
/// configured warehouse, S3 (its endpoint sent to readers in <c>LoadTableResult.config</c>), tokens and OAuth clients.
/// </summary>
internal static class RestCatalogSettings
{
    public static RestCatalogOptions From(DataPlaneOptions options)
    {
        var catalog = options.Catalog;
        return new RestCatalogOptions
        {
            WarehouseLocation = options.WarehouseLocation,
            DatabasePath = Path.Combine(options.DataDirectory, "catalog", "catalog.db"),
            S3 = S3(options),
            AllowAnonymous = catalog.AllowAnonymous ?? AnonymousAccess.ByDefault(options.Host),
            VendCredentials = catalog.VendCredentials,
            ReaderS3Endpoint = catalog.S3Endpoint,
            Tokens = [.. catalog.Tokens.Select((t, i) => new RestCatalogToken(Required(t.Token, $"Catalog:Tokens:{i}:Token"), t.ReadOnly))],
            Clients = [.. catalog.Clients.Select((c, i) => new RestCatalogClient(
                Required(c.ClientId, $"Catalog:Clients:{i}:ClientId"), Required(c.ClientSecret, $"Catalog:Clients:{i}:ClientSecret"), c.ReadOnly))],
        };
    }

    /// <summary>The S3 endpoint and keys of <c>DATAPLANE_S3__*</c>; null when none are set (AWS's defaults).</summary>
    public static S3Options? S3(DataPlaneOptions options) =>
        options.S3.Endpoint is null && options.S3.AccessKey is null
            ? null
            : new S3Options
            {
                Endpoint = options.S3.Endpoint, AccessKey = options.S3.AccessKey, SecretKey = options.S3.SecretKey,
                SessionToken = options.S3.SessionToken,
                Region = options.S3.Region, PathStyle = options.S3.PathStyle,
            };

    /// <summary>Refuses a token or client with an empty part, or credential vending, naming the setting, before the server starts.</summary>
    public static void Validate(DataPlaneOptions options) => From(options).Validate();

    private static string Required(string? value, string key) =>
        string.IsNullOrWhiteSpace(value)
            ? throw new ArgumentException($"Setting {key} is empty; give a value (environment: DATAPLANE_{key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()}).")
            : value;
}
