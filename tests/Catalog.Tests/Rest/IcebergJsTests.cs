using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>An independent client, the npm package iceberg-js 1.0.0, against a real `dataplane serve` process.</summary>
public sealed class IcebergJsTests : IDisposable
{
    private static readonly string ScriptFolder = Path.Combine(RepoPaths.Root, "tests", "Catalog.Tests", "Rest", "iceberg-js");
    private readonly string _dir = Directory.CreateTempSubdirectory("iceberg-js-").FullName;

    private async Task<(DataPlaneProcess Server, string CatalogUri)> ServeAsync()
    {
        var port = DataPlaneProcess.FreePort();
        var server = await DataPlaneProcess.StartServerAsync(_dir, port, ["serve", "--port", port.ToString(), "--data", _dir, "--log-format", "simple"]);
        return (server, new Uri(server.BaseAddress, "iceberg").ToString());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Iceberg_js_creates_commits_loads_and_lists_through_the_catalog()
    {
        await EnsureInstalledAsync();
        var (server, catalogUri) = await ServeAsync();
        await using var _ = server;
        var (exit, stdout, stderr) = await RunAsync("node", "roundtrip.mjs", catalogUri);
        Assert.True(exit == 0, $"iceberg-js script failed ({exit}): {stderr}\n{stdout}\nserver:\n{server.Output}");
        using var result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.Equal(4242, result.RootElement.GetProperty("currentSnapshotId").GetInt64());
        Assert.Equal(1, result.RootElement.GetProperty("snapshots").GetInt32());
        Assert.Equal("events", result.RootElement.GetProperty("tables")[0].GetString());
        Assert.Equal(409, result.RootElement.GetProperty("conflict").GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Iceberg_js_follows_the_prefix_from_config_when_given_the_warehouse()
    {
        await EnsureInstalledAsync();
        var (server, catalogUri) = await ServeAsync();
        await using var _ = server;
        var (exit, stdout, stderr) = await RunAsync("node", "roundtrip.mjs", catalogUri, "dataplane");
        Assert.True(exit == 0, $"iceberg-js script failed ({exit}): {stderr}\n{stdout}");
        Assert.Contains("\"currentSnapshotId\":4242", stdout);
    }

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists(Path.Combine(ScriptFolder, "node_modules", "iceberg-js", "package.json"))) return;
        var (exit, stdout, stderr) = await RunAsync("npm", "install", "--no-audit", "--no-fund", "--no-package-lock");
        Assert.True(exit == 0, $"npm install iceberg-js@1.0.0 failed: {stderr}\n{stdout}");
    }

    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, params string[] args) =>
        ToolProcess.RunAsync(file, args, TimeSpan.FromMinutes(3), ScriptFolder);
}
