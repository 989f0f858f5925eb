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

    /// <summary>How readers reach an S3 warehouse: its endpoint, region and addressing are sent in
    /// <c>LoadTableResult.config</c>; its keys never are.</summary>
    public S3Options? S3 { get; init; }

    /// <summary>
    /// Credential vending (<c>X-Iceberg-Access-Delegation: vended-credentials</c>). Refused by <see cref="Validate"/>:
    /// vended credentials must be temporary keys scoped to one table (read-only for a read-only token), minted by an
    /// STS, and the catalog has none; it never hands out <see cref="S3"/>'s own keys.
    /// </summary>
    public bool VendCredentials { get; init; }

    /// <summary>The S3 endpoint readers are told (<c>s3.endpoint</c>) when they reach the store by another address
    /// than the catalog does (a container network's host name against the published port); null: <see cref="S3"/>'s.</summary>
    public string? ReaderS3Endpoint { get; init; }

    /// <summary>
    /// Requests without a token are let in when no <see cref="Tokens"/> or <see cref="Clients"/> are configured and
    /// this is on (<c>dataplane serve</c>: by default only on a loopback listen address); with tokens, never.
    /// </summary>
    public bool AllowAnonymous { get; init; } = true;

    /// <summary>Static bearer tokens; with any (or any <see cref="Clients"/>) every request needs a token.</summary>
    public IReadOnlyList<RestCatalogToken> Tokens { get; init; } = [];

    /// <summary>OAuth2 client_credentials accepted by <c>POST /v1/oauth/tokens</c>.</summary>
    public IReadOnlyList<RestCatalogClient> Clients { get; init; } = [];

    public TimeSpan IssuedTokenLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Memory for metadata files kept parsed and serialized between requests (least recently used go first).</summary>
    public long MetadataCacheBytes { get; init; } = 256L << 20;

    internal bool AuthenticationEnabled => Tokens.Count > 0 || Clients.Count > 0;

    /// <summary>Refuses settings the catalog cannot honour safely, naming them (<c>dataplane serve</c> checks before it starts).</summary>
    public void Validate()
    {
        if (VendCredentials)
            throw new ArgumentException(
                "Catalog:VendCredentials (DATAPLANE_CATALOG__VENDCREDENTIALS) is not supported: vended credentials must be temporary keys " +
                "scoped to one table, minted by an STS, and DataPlane never hands out its own S3 keys (they are long-lived and can write " +
                "and delete everything, whatever the reader's token allows). Remove the setting and give readers their own S3 " +
                "credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, read-only where they only read).");
    }
}

/// <summary>A bearer token; a read-only one is refused (403) on every request that changes the catalog.</summary>
public sealed record RestCatalogToken(string Token, bool ReadOnly = false);

/// <summary>An OAuth2 client; the tokens issued to it inherit <see cref="ReadOnly"/>.</summary>
public sealed record RestCatalogClient(string ClientId, string ClientSecret, bool ReadOnly = false);
