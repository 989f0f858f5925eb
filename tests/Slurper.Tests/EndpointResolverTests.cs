using Xunit;

namespace DataPlane.Slurper.Tests;

public class EndpointResolverTests
{
    static readonly EndpointResolver.Flags NoFlags = new(null, null, null, null, null);

    [Fact]
    public void Flags_win_over_environment_which_wins_over_the_profile()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "[old]\nendpoint = http://profile:1\naccess_key = PK\nsecret_key = PS\nregion = eu-west-1\n[other]\naccess_key=X\n");
        var env = new Dictionary<string, string>
        {
            ["DATAPLANE_SLURP_FROM_PROFILE"] = "old",
            ["DATAPLANE_SLURP_FROM_ACCESS_KEY"] = "EK",
        };
        var ep = EndpointResolver.Resolve("from", "s3://b/p", NoFlags with { SecretKey = "FS" }, file, n => env.GetValueOrDefault(n));
        Assert.Equal("http://profile:1", ep.S3!.Endpoint);
        Assert.Equal("EK", ep.S3.AccessKey);
        Assert.Equal("FS", ep.S3.SecretKey);
        Assert.Equal("eu-west-1", ep.S3.Region);
        File.Delete(file);
    }

    [Fact]
    public void Temporary_credentials_and_virtual_hosted_addressing_come_from_the_profile_the_environment_or_flags()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "[sts]\naccess_key = ASIA1\nsecret_key = S1\nsession_token = profile-token\npath_style = false\n");
        var fromProfile = EndpointResolver.Resolve("from", "s3://b", NoFlags with { Profile = "sts" }, file, _ => null);
        Assert.Equal("profile-token", fromProfile.S3!.SessionToken);
        Assert.False(fromProfile.S3.PathStyle);

        var env = new Dictionary<string, string> { ["DATAPLANE_SLURP_FROM_SESSION_TOKEN"] = "env-token", ["DATAPLANE_SLURP_FROM_PATH_STYLE"] = "true" };
        var fromEnvironment = EndpointResolver.Resolve("from", "s3://b", NoFlags with { Profile = "sts" }, file, n => env.GetValueOrDefault(n));
        Assert.Equal("env-token", fromEnvironment.S3!.SessionToken);
        Assert.True(fromEnvironment.S3.PathStyle);

        var fromFlags = EndpointResolver.Resolve("from", "s3://b", NoFlags with { Profile = "sts", SessionToken = "flag-token", PathStyle = false }, file,
            n => env.GetValueOrDefault(n));
        Assert.Equal("flag-token", fromFlags.S3!.SessionToken);
        Assert.False(fromFlags.S3.PathStyle);

        Assert.True(EndpointResolver.Resolve("from", "s3://b", NoFlags, null, _ => null).S3!.PathStyle);
        var e = Assert.Throws<ArgumentException>(() => EndpointResolver.Resolve("from", "s3://b", NoFlags, null,
            n => n == "DATAPLANE_SLURP_FROM_PATH_STYLE" ? "sometimes" : null));
        Assert.Contains("sometimes", e.Message);
        File.Delete(file);
    }

    [Fact]
    public void The_destination_reads_its_own_environment()
    {
        var env = new Dictionary<string, string> { ["DATAPLANE_SLURP_TO_ENDPOINT"] = "http://127.0.0.1:9001", ["DATAPLANE_SLURP_FROM_ENDPOINT"] = "http://127.0.0.1:9000" };
        var ep = EndpointResolver.Resolve("to", "s3://dst", NoFlags, null, n => env.GetValueOrDefault(n));
        Assert.Equal("http://127.0.0.1:9001", ep.S3!.Endpoint);
    }

    [Theory]
    [InlineData("s3://", "names no bucket")]
    [InlineData("gs://bucket", "unknown scheme")]
    public void Bad_locations_are_refused_naming_the_value(string location, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => EndpointResolver.Resolve("from", location, NoFlags, null, _ => null));
        Assert.Contains(location, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void A_missing_profile_lists_the_ones_there()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "[alpha]\naccess_key=a\n[beta]\n");
        var e = Assert.Throws<ArgumentException>(() => EndpointResolver.Resolve("to", "s3://b", NoFlags with { Profile = "gamma" }, file, _ => null));
        Assert.Contains("gamma", e.Message);
        Assert.Contains("alpha, beta", e.Message);
        File.Delete(file);
    }

    [Fact]
    public void A_local_folder_needs_no_endpoint()
    {
        var ep = EndpointResolver.Resolve("to", "/tmp/x", NoFlags, null, _ => null);
        Assert.False(ep.IsS3);
        Assert.Null(ep.S3);
    }
}
