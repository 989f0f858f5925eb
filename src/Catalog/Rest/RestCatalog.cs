using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Rest.Auth;
using DataPlane.Catalog.Store;
using DataPlane.Storage;
using Microsoft.Extensions.Logging;

namespace DataPlane.Catalog.Rest;

/// <summary>The service's state shared by every handler: options and token checks, and the parts of the catalog it serves.</summary>
internal sealed class RestCatalog
{
    public RestCatalog(RestCatalogOptions options, IcebergCatalog catalog, ILogger<RestCatalog> logger)
    {
        Options = options;
        Logger = logger;
        Authenticator = new TokenAuthenticator(options);
        Store = catalog.Store;
        Warehouse = catalog.Warehouse;
        Files = catalog.Files;
        Locations = catalog.Locations;
        Purge = catalog.Purge;
        Committer = catalog.Committer;
        Time = catalog.Time;
    }

    public RestCatalogOptions Options { get; }
    public ILogger Logger { get; }
    public TokenAuthenticator Authenticator { get; }
    // The catalog's own parts: the in-process catalog and the service share them, so their commits are grouped together.
    public CatalogStore Store { get; }
    public IObjectStore Warehouse { get; }
    public MetadataFiles Files { get; }
    public TableLocations Locations { get; }
    public TablePurge Purge { get; }
    public TableCommitter Committer { get; }
    public TimeProvider Time { get; }

    /// <summary>The warehouse root as clients see it: <c>file:///abs/path</c> or <c>s3://bucket/prefix</c>, no trailing slash.</summary>
    public string WarehouseUri => Warehouse.Location.ToString().TrimEnd('/');

}
