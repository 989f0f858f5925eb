namespace DataPlane.Hosting;

/// <summary>
/// What `dataplane serve` runs with. Bound from, lowest precedence first: built-in defaults,
/// an optional <c>dataplane.json</c>, environment variables <c>DATAPLANE_*</c> (nested keys with <c>__</c>,
/// e.g. <c>DATAPLANE_S3__ENDPOINT</c>), then command-line flags.
/// </summary>
internal sealed class DataPlaneOptions
{
    public const int DefaultPort = 8181;

    /// <summary>Address to listen on; loopback by default so nothing is exposed by accident.</summary>
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = DefaultPort;
    /// <summary>Root of everything DataPlane keeps on local disk (warehouse, ingest logs, catalog and database files).</summary>
    public string Data { get; set; } = "data";
    /// <summary>Where table data lives: a folder (default <c>&lt;data&gt;/warehouse</c>) or <c>s3://bucket/prefix</c>.</summary>
    public string? Warehouse { get; set; }
    public S3Settings S3 { get; set; } = new();
    /// <summary>Who may use the Iceberg REST catalog and what it tells readers about storage.</summary>
    public CatalogSettings Catalog { get; set; } = new();
    /// <summary><c>json</c> (one JSON object per line) or <c>simple</c>; default: simple on a terminal, json otherwise.</summary>
    public string? LogFormat { get; set; }

    public DatabaseSettings Databases { get; set; } = new();

    /// <summary>The table maintenance scheduler (what to do to each table is in its properties).</summary>
    public Maintenance.MaintenanceOptions Maintenance { get; set; } = new();

    /// <summary>What this process does: <c>all</c> (everything, the default), <c>ingest</c>, <c>worker</c> or <c>catalog</c>
    /// (<see cref="Pipelines.ProcessRole"/>); <c>ingest</c> and <c>worker</c> need <see cref="CatalogSettings.Url"/>.</summary>
    public string Role { get; set; } = "all";

    /// <summary><see cref="Role"/> as parsed by validation.</summary>
    public Pipelines.ProcessRole ProcessRole => Enum.Parse<Pipelines.ProcessRole>(Role, ignoreCase: true);

    public string DataDirectory => Path.GetFullPath(Data);

    public string WarehouseLocation => Warehouse ?? Path.Combine(DataDirectory, "warehouse");

    internal sealed class DatabaseSettings
    {
        /// <summary>Databases without tokens open to every client, when no <see cref="AdminToken"/> is set; default: on only when <see cref="Host"/> is a loopback address.</summary>
        public bool? AllowAnonymous { get; set; }
        /// <summary>A bearer token that may create and delete databases, issue their tokens and query any of them.</summary>
        public string? AdminToken { get; set; }
        /// <summary>How long one request's statements may run before they are stopped (and a write rolled back).</summary>
        public double StatementTimeoutSeconds { get; set; } = new Database.DatabaseOptions().StatementTimeout.TotalSeconds;
        /// <summary>How many databases the server may hold.</summary>
        public int MaxDatabases { get; set; } = new Database.DatabaseOptions().MaxDatabases;
    }

    internal sealed class S3Settings
    {
        public string? Endpoint { get; set; }
        public string? AccessKey { get; set; }
        public string? SecretKey { get; set; }
        /// <summary>The session token of temporary credentials, with <see cref="AccessKey"/> and <see cref="SecretKey"/>.</summary>
        public string? SessionToken { get; set; }
        public string Region { get; set; } = "us-east-1";
        /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), which MinIO and s3rver need; false for virtual-hosted AWS buckets.</summary>
        public bool PathStyle { get; set; } = true;
    }

    internal sealed class CatalogSettings
    {
        /// <summary>Static bearer tokens; with any here (or any <see cref="Clients"/>) every catalog request needs a token.</summary>
        public List<TokenSettings> Tokens { get; set; } = [];
        /// <summary>Requests without a token, when neither <see cref="Tokens"/> nor <see cref="Clients"/> are set; default: on only when <see cref="Host"/> is a loopback address.</summary>
        public bool? AllowAnonymous { get; set; }
        /// <summary>OAuth2 client_credentials that <c>POST /iceberg/v1/oauth/tokens</c> exchanges for tokens.</summary>
        public List<ClientSettings> Clients { get; set; } = [];
        /// <summary>Credential vending: refused at start-up (the catalog never hands out the server's own S3 keys and has no STS to mint scoped ones).</summary>
        public bool VendCredentials { get; set; }
        /// <summary>The S3 endpoint readers are told, when they reach the store by another address than DataPlane
        /// does (in docker-compose: DataPlane uses <c>http://minio:9000</c>, engines on the host <c>http://127.0.0.1:9000</c>).</summary>
        public string? S3Endpoint { get; set; }
        /// <summary>The catalog process (<c>--role catalog</c>) an <c>ingest</c> or <c>worker</c> process takes its definitions from, forwards
        /// management writes to and commits through: its base address, e.g. <c>http://catalog:8181</c> (<c>--catalog</c>, <c>DATAPLANE_CATALOG_URL</c>).</summary>
        public string? Url { get; set; }
        /// <summary>The bearer token this process sends to the catalog process at <see cref="Url"/> (one of its Pipelines:Tokens that may
        /// manage, and one of its Catalog:Tokens that may write); none when that process takes requests without one.</summary>
        public string? Token { get; set; }
    }

    internal sealed class TokenSettings
    {
        public string? Token { get; set; }
        public bool ReadOnly { get; set; }
    }

    internal sealed class ClientSettings
    {
        public string? ClientId { get; set; }
        public string? ClientSecret { get; set; }
        public bool ReadOnly { get; set; }
    }
}
