using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Slurper.Tests;

/// <summary>Two independent S3 servers (two s3rver processes, or MinIO containers where Docker runs): a source and a destination.</summary>
public sealed class TwoS3Servers : IAsyncLifetime
{
    public S3Server Source { get; private set; } = null!;
    public S3Server Destination { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(S3Server.StartAsync(), S3Server.StartAsync());
        (Source, Destination) = (servers[0], servers[1]);
    }

    public async Task DisposeAsync()
    {
        await Source.DisposeAsync();
        await Destination.DisposeAsync();
    }
}
