using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DataPlane.Hosting;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>The Iceberg REST catalog's tokens, OAuth clients and S3 settings come from dataplane.json and DATAPLANE_* like every other setting.</summary>
public sealed class CatalogSettingsTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-catalog-settings-").FullName;

    [Fact]
    public async Task Tokens_from_dataplane_json_and_an_oauth_client_from_the_environment_guard_the_catalog()
    {
        File.WriteAllText(Path.Combine(_workDir, "dataplane.json"), """
            { "Catalog": { "Tokens": [ { "Token": "writer-secret" }, { "Token": "reader-secret", "ReadOnly": true } ] } }
            """);
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString()], new Dictionary<string, string>
        {
            ["DATAPLANE_CATALOG__CLIENTS__0__CLIENTID"] = "spark",
            ["DATAPLANE_CATALOG__CLIENTS__0__CLIENTSECRET"] = "spark-secret",
        });
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseAddress, "iceberg/v1/") };

        Assert.Equal(HttpStatusCode.Unauthorized, await Send(http, HttpMethod.Get, "namespaces", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(http, HttpMethod.Get, "namespaces", "not-a-token"));
        Assert.Equal(HttpStatusCode.OK, await Send(http, HttpMethod.Get, "namespaces", "writer-secret"));
        Assert.Equal(HttpStatusCode.OK, await Send(http, HttpMethod.Post, "namespaces", "writer-secret", """{"namespace":["sales"]}"""));
        Assert.Equal(HttpStatusCode.OK, await Send(http, HttpMethod.Get, "namespaces/sales", "reader-secret"));
        Assert.Equal(HttpStatusCode.Forbidden, await Send(http, HttpMethod.Post, "namespaces", "reader-secret", """{"namespace":["hr"]}"""));

        using var exchange = await http.PostAsync("oauth/tokens", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "spark", ["client_secret"] = "spark-secret",
        }));
        Assert.Equal(HttpStatusCode.OK, exchange.StatusCode);
        var issued = JsonDocument.Parse(await exchange.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        Assert.Equal(HttpStatusCode.OK, await Send(http, HttpMethod.Get, "namespaces", issued));
        Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void S3_settings_reach_the_catalog_options_with_the_environment_over_the_file()
    {
        var file = Path.Combine(_workDir, "catalog.json");
        File.WriteAllText(file, """
            { "Warehouse": "s3://lake/warehouse",
              "S3": { "Endpoint": "http://127.0.0.1:9000", "AccessKey": "key", "SecretKey": "secret", "Region": "eu-west-1", "PathStyle": false },
              "Catalog": { "S3Endpoint": "http://lake.example:9000", "Clients": [ { "ClientId": "trino", "ClientSecret": "s", "ReadOnly": true } ] } }
            """);
        var (options, _) = DataPlaneConfiguration.Load(file, new Dictionary<string, string?> { ["S3:Region"] = "us-west-2" });

        var catalog = RestCatalogSettings.From(options);

        Assert.Equal("s3://lake/warehouse", catalog.WarehouseLocation);
        Assert.Equal("http://127.0.0.1:9000", catalog.S3!.Endpoint);
        Assert.Equal(("key", "secret"), (catalog.S3.AccessKey, catalog.S3.SecretKey));
        Assert.Equal("us-west-2", catalog.S3.Region);
        Assert.False(catalog.S3.PathStyle);
        Assert.False(catalog.VendCredentials);
        Assert.Equal("http://lake.example:9000", catalog.ReaderS3Endpoint);
        Assert.Equal(new DataPlane.Catalog.Rest.RestCatalogClient("trino", "s", ReadOnly: true), Assert.Single(catalog.Clients));
        Assert.Empty(catalog.Tokens);
    }

    [Fact]
    public async Task Serve_refuses_credential_vending_at_start_up_naming_the_setting()
    {
        // It handed the server's own long-lived read-write S3 keys to any client that asked, read-only tokens included.
        await using var serve = DataPlaneProcess.Start(["serve", "--port", DataPlaneProcess.FreePort().ToString()], _workDir, new Dictionary<string, string>
        {
            ["DATAPLANE_WAREHOUSE"] = "s3://lake/warehouse", ["DATAPLANE_S3__ACCESSKEY"] = "key", ["DATAPLANE_S3__SECRETKEY"] = "secret",
            ["DATAPLANE_CATALOG__VENDCREDENTIALS"] = "true",
        });
        Assert.Equal(2, await serve.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Catalog:VendCredentials", serve.Output);
        Assert.Contains("DATAPLANE_CATALOG__VENDCREDENTIALS", serve.Output);
    }

    [Fact]
    public void A_token_without_a_value_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => DataPlaneConfiguration.Load(null, new Dictionary<string, string?> { ["Catalog:Tokens:0:ReadOnly"] = "true" }));
        Assert.Contains("Catalog:Tokens:0:Token", error.Message);
        Assert.Contains("DATAPLANE_CATALOG__TOKENS__0__TOKEN", error.Message);
    }

    private static async Task<HttpStatusCode> Send(HttpClient http, HttpMethod method, string path, string? token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
