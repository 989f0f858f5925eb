using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Storage.Tests;

/// <summary>One S3 server shared by the S3 test classes of this assembly.</summary>
[CollectionDefinition(Name)]
public sealed class S3Collection : ICollectionFixture<S3ServerFixture>
{
    public const string Name = "S3 server";
}
