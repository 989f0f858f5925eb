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
    /// <summary><c>json</c> (one JSON object per line) or <c>simple</c>; default: simple on a terminal, json otherwise.</summary>
    public string? LogFormat { get; set; }

    public string DataDirectory => Path.GetFullPath(Data);
    public string WarehouseLocation => Warehouse ?? Path.Combine(DataDirectory, "warehouse");

    internal sealed class S3Settings
    {
        public string? Endpoint { get; set; }
        public string? AccessKey { get; set; }
        public string? SecretKey { get; set; }
        public string Region { get; set; } = "us-east-1";
    }
}
