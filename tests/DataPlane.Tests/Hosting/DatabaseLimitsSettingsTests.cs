using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DataPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>Databases:StatementTimeoutSeconds and Databases:MaxDatabases reach the server's databases, and bad values stop it naming the setting.</summary>
public sealed class DatabaseLimitsSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dataplane-db-limits-").FullName;

    [Fact]
    public async Task The_configured_statement_time_limit_and_database_limit_apply()
    {
        var (options, _) = DataPlaneConfiguration.Load(null, new Dictionary<string, string?>
        {
            ["Port"] = "0", ["Data"] = _dir, ["LogFormat"] = "simple",
            ["Databases:StatementTimeoutSeconds"] = "0.5", ["Databases:MaxDatabases"] = "1",
        });
        await using var app = ServerHost.Build(options);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 0 })).StatusCode);

        using var runaway = await http.PostAsJsonAsync("db/app/query", new { sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c" });
        using var second = await http.PostAsJsonAsync("api/v1/databases", new { name = "other", replicas = 0 });

        Assert.Equal(HttpStatusCode.RequestTimeout, runaway.StatusCode);
        Assert.Contains("ran for 0.5 s, the limit (Databases:StatementTimeoutSeconds)", await runaway.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains("Databases:MaxDatabases = 1", (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString());
        await app.StopAsync();
    }

    [Theory]
    [InlineData("Databases:StatementTimeoutSeconds", "0")]
    [InlineData("Databases:StatementTimeoutSeconds", "-1")]
    [InlineData("Databases:MaxDatabases", "0")]
    public void An_out_of_range_limit_stops_the_server_naming_the_setting(string key, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => DataPlaneConfiguration.Load(null, new Dictionary<string, string?> { [key] = value }));

        Assert.Contains($"{key} {value} is out of range", error.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
