using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Minio;
using Minio.DataModel.Args;

namespace DataPlane.TestServices;

/// <summary>
/// One S3-compatible server for tests: a MinIO container where a Docker engine answers, else s3rver as a local
/// process (scripts/test-services/s3rver.sh). Each instance is independent, so a test can run two (a Slurper
/// copying between servers). s3rver accepts any credentials and does not check signatures, conditional
/// writes or Content-MD5: tests must not rely on those (see the shared test-services notes).
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    private const string MinioImage = "minio/minio:RELEASE.2025-04-22T22-12-26Z";

    private readonly ServiceScript? _script;
    private readonly IContainer? _container;

    private S3Server(string kind, string endpoint, string accessKey, string secretKey, ServiceScript? script = null, IContainer? container = null)
    {
        Kind = kind;
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
        _script = script;
        _container = container;
    }

    /// <summary>"external" (from the environment), "minio" (container) or "s3rver" (local process).</summary>
    public string Kind { get; }
    /// <summary>e.g. <c>http://127.0.0.1:PORT</c>; path-style addressing.</summary>
    public string Endpoint { get; }
    public string AccessKey { get; }
    public string SecretKey { get; }
    public string Region => "us-east-1";

    /// <summary>The domain under which the servers started here take virtual-hosted requests (<c>&lt;bucket&gt;.s3.localhost</c>:
    /// s3rver's <c>--service-endpoint localhost</c>, MinIO's <c>MINIO_DOMAIN</c>).</summary>
    public const string VirtualHostDomain = "s3.localhost";

    /// <summary>
    /// The endpoint to use with virtual-hosted addressing, <c>http://s3.localhost:PORT</c>; null for an external server,
    /// whose domain is not known. No resolver here knows <c>&lt;bucket&gt;.s3.localhost</c> (glibc without
    /// nss-myhostname, and .NET does not map *.localhost to loopback), so clients connect with <see cref="ConnectToServerAsync"/>.
    /// </summary>
    public string? VirtualHostedEndpoint => Kind == "external" ? null : $"{new Uri(Endpoint).Scheme}://{VirtualHostDomain}:{new Uri(Endpoint).Port}";

    /// <summary>A host alias on loopback for HttpClient (<see cref="SocketsHttpHandler.ConnectCallback"/>): whatever host a request
    /// names, connect to this server's address, so the request still carries (and signs) its own Host.</summary>
    public async ValueTask<Stream> ConnectToServerAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var server = new Uri(Endpoint);
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The server's process when it runs here (s3rver), so a benchmark can charge it the CPU time it used; else null.</summary>
    public int? ProcessId =>
        _script is not null && File.Exists(Path.Combine(_script.StateDirectory, "pid"))
        && int.TryParse(File.ReadAllText(Path.Combine(_script.StateDirectory, "pid")).Trim(), out var pid) ? pid : null;

    /// <summary>
    /// The server for a test run: <c>DATAPLANE_TEST_S3_ENDPOINT</c> (with <c>_ACCESS_KEY</c>, <c>_SECRET_KEY</c>, and
    /// <c>_KIND</c> naming the server software, since tests skip what a known server lacks) when set; else a new server
    /// (<see cref="StartAsync"/>). Throws with the reason when none can be had.
    /// </summary>
    public static Task<S3Server> ResolveAsync()
    {
        if (Environment.GetEnvironmentVariable("DATAPLANE_TEST_S3_ENDPOINT") is { Length: > 0 } endpoint)
        {
            return Task.FromResult(new S3Server(
                Environment.GetEnvironmentVariable("DATAPLANE_TEST_S3_KIND") is { Length: > 0 } kind ? kind : "external", endpoint.TrimEnd('/'),
                Environment.GetEnvironmentVariable("DATAPLANE_TEST_S3_ACCESS_KEY") ?? "",
                Environment.GetEnvironmentVariable("DATAPLANE_TEST_S3_SECRET_KEY") ?? ""));
        }
        return StartAsync();
    }

    /// <summary>Starts a new, independent server: MinIO in Docker when an engine answers, else s3rver.</summary>
    public static async Task<S3Server> StartAsync()
    {
        if (DockerEngine.IsAvailable)
        {
            const string user = "dataplane";
            const string password = "dataplane-secret";
            var container = new ContainerBuilder(MinioImage)
                .WithEnvironment("MINIO_ROOT_USER", user)
                .WithEnvironment("MINIO_ROOT_PASSWORD", password)
                .WithEnvironment("MINIO_DOMAIN", VirtualHostDomain)
                .WithCommand("server", "/data")
                .WithPortBinding(9000, assignRandomHostPort: true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(9000).ForPath("/minio/health/ready")))
                .Build();
            await container.StartAsync();
            return new S3Server("minio", $"http://{container.Hostname}:{container.GetMappedPublicPort(9000)}", user, password, container: container);
        }

        // The script stops the server when this process exits, even if Dispose never runs (a crashed test host).
        Environment.SetEnvironmentVariable("DATAPLANE_TEST_OWNER_PID", Environment.ProcessId.ToString());
        var script = await ServiceScript.StartAsync("s3rver.sh", TimeSpan.FromMinutes(5));
        if (!script.Values.TryGetValue("S3_ENDPOINT", out var endpoint))
        {
            await script.DisposeAsync();
            throw new InvalidOperationException($"s3rver.sh start printed no S3_ENDPOINT; see {script.StateDirectory}.");
        }
        return new S3Server("s3rver", endpoint, script.Values.GetValueOrDefault("S3_ACCESS_KEY", "S3RVER"),
            script.Values.GetValueOrDefault("S3_SECRET_KEY", "S3RVER"), script);
    }

    /// <summary>A Minio SDK client for this server (path-style), for test setup and checks.</summary>
    public IMinioClient CreateClient()
    {
        var uri = new Uri(Endpoint);
        return new MinioClient()
            .WithEndpoint(uri.Host, uri.Port)
            .WithSSL(uri.Scheme == Uri.UriSchemeHttps)
            .WithCredentials(AccessKey, SecretKey)
            .WithRegion(Region)
            .Build();
    }

    /// <summary>Creates a bucket no other test uses and returns its name.</summary>
    public async Task<string> CreateBucketAsync(string namePrefix = "test")
    {
        var name = $"{namePrefix}-{Guid.NewGuid():N}".ToLowerInvariant();
        if (name.Length > 63) name = name[..63]; // S3's limit on bucket names
        using var client = CreateClient();
        await client.MakeBucketAsync(new MakeBucketArgs().WithBucket(name));
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        if (_script is not null) await _script.DisposeAsync();
        if (_container is not null) await _container.DisposeAsync();
    }
}
