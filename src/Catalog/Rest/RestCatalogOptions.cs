using DataPlane.Storage;

namespace DataPlane.Catalog.Rest;

/// <summary>What the Iceberg REST catalog service runs with.</summary>
public sealed class RestCatalogOptions
{
    /// <summary>Where tables live: a folder, <c>file:///...</c>, or <c>s3://bucket/prefix</c>.</summary>
    public required string WarehouseLocation { get; init; }

    /// <summary>The SQLite file holding namespaces, tables and views (<c>&lt;data&gt;/catalog/catalog.db</c> under <c>dataplane serve</c>).</summary>
    public required string DatabasePath { get; init; }

    /// <summary>The warehouse name: the one accepted <c>{prefix}</c> and <c>warehouse</c> value besides the location itself.</summary>
    public string Name { get; init; } = "dataplane";

    /// <summary>How readers reach an S3 warehouse; sent in <c>LoadTableResult.config</c>. Keys are vended only when
    /// <see cref="VendCredentials"/> is on and the client asks with <c>X-Iceberg-Access-Delegation: vended-credentials</c>.</summary>
    public S3Options? S3 { get; init; }

    public bool VendCredentials { get; init; }

    /// <summary>The S3 endpoint readers are told (<c>s3.endpoint</c>) when they reach the store by another address
    /// than the catalog does (a container network's host name against the published port); null: <see cref="S3"/>'s.</summary>
    public string? ReaderS3Endpoint { get; init; }

    /// <summary>Static bearer tokens. With none here and no <see cref="Clients"/>, the catalog is open (meant for loopback).</summary>
    public IReadOnlyList<RestCatalogToken> Tokens { get; init; } = [];

    /// <summary>OAuth2 client_credentials accepted by <c>POST /v1/oauth/tokens</c>.</summary>
    public IReadOnlyList<RestCatalogClient> Clients { get; init; } = [];

    public TimeSpan IssuedTokenLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Memory for metadata files kept parsed and serialized between requests (least recently used go first).</summary>
    public long MetadataCacheBytes { get; init; } = 256L << 20;

    internal bool AuthenticationEnabled => Tokens.Count > 0 || Clients.Count > 0;
}

/// <summary>A bearer token; a read-only one is refused (403) on every request that changes the catalog.</summary>
public sealed record RestCatalogToken(string Token, bool ReadOnly = false);

/// <summary>An OAuth2 client; the tokens issued to it inherit <see cref="ReadOnly"/>.</summary>
public sealed record RestCatalogClient(string ClientId, string ClientSecret, bool ReadOnly = false);
