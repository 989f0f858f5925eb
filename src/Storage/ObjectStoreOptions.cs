namespace DataPlane.Storage;

/// <summary>How to reach an S3-compatible server. The location URI (<c>s3://bucket/prefix</c>) names bucket and prefix;
/// this names the endpoint and credentials (from configuration, never from the URI).</summary>
public sealed record S3Options
{
    /// <summary>e.g. <c>http://127.0.0.1:9000</c>; null means AWS.</summary>
    public string? Endpoint { get; init; }
    public string? AccessKey { get; init; }
    public string? SecretKey { get; init; }
    /// <summary>The session token of temporary credentials (STS, an instance or task role), sent as
    /// <c>X-Amz-Security-Token</c> with <see cref="AccessKey"/> and <see cref="SecretKey"/>; null for long-term keys.</summary>
    public string? SessionToken { get; init; }
    /// <summary>The region requests are signed for (and, with no <see cref="Endpoint"/>, the AWS endpoint's).</summary>
    public string Region { get; init; } = "us-east-1";
    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), which MinIO and s3rver need by default; false for
    /// virtual-hosted addressing (<c>bucket.endpoint/key</c>), which AWS prefers and some S3-compatible services require.</summary>
    public bool PathStyle { get; init; } = true;
    /// <summary>Create the bucket when it does not exist.</summary>
    public bool CreateBucket { get; init; }
}
