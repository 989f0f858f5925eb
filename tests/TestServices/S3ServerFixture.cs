using Minio;
using Xunit;

namespace DataPlane.TestServices;

/// <summary>
/// A real S3-compatible server for a test class or collection (<see cref="S3Server.ResolveAsync"/>: the environment's,
/// else MinIO in Docker, else s3rver). It never skips: when no server can start, initialization fails with the reason.
/// Tests that need a second, independent server call <see cref="S3Server.StartAsync"/> and dispose it.
/// </summary>
public sealed class S3ServerFixture : IAsyncLifetime
{
    private S3Server? _server;

    public S3Server Server => _server ?? throw new InvalidOperationException("The S3 server fixture is not initialized.");
    public string Endpoint => Server.Endpoint;
    public string AccessKey => Server.AccessKey;
    public string SecretKey => Server.SecretKey;
    public string Region => Server.Region;

    public async Task InitializeAsync() => _server = await S3Server.ResolveAsync();

    public Task<string> CreateBucketAsync(string namePrefix = "test") => Server.CreateBucketAsync(namePrefix);

    public IMinioClient CreateClient() => Server.CreateClient();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
