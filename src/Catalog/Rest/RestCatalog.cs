using DataPlane.Catalog.Rest.Auth;
using DataPlane.Catalog.Rest.Commits;
using DataPlane.Catalog.Rest.Store;
using DataPlane.Storage;
using Microsoft.Extensions.Logging;

namespace DataPlane.Catalog.Rest;

/// <summary>The service's state shared by every handler: options, the SQLite store, the warehouse, token checks.</summary>
internal sealed class RestCatalog : IDisposable
{
    public RestCatalog(RestCatalogOptions options, ILogger<RestCatalog> logger)
    {
        Options = options;
        Logger = logger;
        Store = new CatalogStore(options.DatabasePath);
        Warehouse = ObjectStore.Open(options.WarehouseLocation, options.S3);
        Authenticator = new TokenAuthenticator(options);
        Files = new MetadataFiles(Warehouse, options.MetadataCacheBytes);
        Locations = new TableLocations(Store, Files);
        Purge = new TablePurge(Store, Files, Locations, Warehouse);
        Committer = new TableCommitter(Store, Files, Locations, Time);
    }

    public RestCatalogOptions Options { get; }
    public ILogger Logger { get; }
    public CatalogStore Store { get; }
    public IObjectStore Warehouse { get; }
    public TokenAuthenticator Authenticator { get; }
    public MetadataFiles Files { get; }
    public TableLocations Locations { get; }
    public TablePurge Purge { get; }
    public TableCommitter Committer { get; }
    public TimeProvider Time { get; } = TimeProvider.System;

    /// <summary>The warehouse root as clients see it: <c>file:///abs/path</c> or <c>s3://bucket/prefix</c>, no trailing slash.</summary>
    public string WarehouseUri => Warehouse.Location.ToString().TrimEnd('/');

    public void Dispose() => Warehouse.Dispose();
}
