using System.Net;
using System.Net.Http.Json;
using DataPlane.Hosting;
using DataPlane.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>Whether databases without tokens are open depends on the listen address unless configured.</summary>
public sealed class DatabaseAccessDefaultsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dataplane-db-access-").FullName;

    [Theory]
    [InlineData("127.0.0.1", null, HttpStatusCode.Created)]
    [InlineData("0.0.0.0", null, HttpStatusCode.Unauthorized)]
    [InlineData("0.0.0.0", true, HttpStatusCode.Created)]
    [InlineData("127.0.0.1", false, HttpStatusCode.Unauthorized)]
    public async Task Anonymous_database_access_is_on_only_for_a_loopback_listen_address_unless_configured(string host, bool? allowAnonymous, HttpStatusCode expected)
    {
        var options = new DataPlaneOptions { Host = host, Port = 0, Data = Path.Combine(_dir, $"{host}-{allowAnonymous}"), LogFormat = "simple" };
        options.Databases.AllowAnonymous = allowAnonymous;
        await using var app = ServerHost.Build(options);
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("0.0.0.0", "127.0.0.1")).Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        using var response = await http.PostAsJsonAsync("api/v1/databases", new { name = "app" });

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized) Assert.Contains("Databases:AllowAnonymous", await response.Content.ReadAsStringAsync());
        await app.StopAsync();
    }

    [Fact]
    public async Task The_admin_token_setting_lets_its_holder_create_databases_on_a_public_address()
    {
        var options = new DataPlaneOptions { Host = "0.0.0.0", Port = 0, Data = _dir, LogFormat = "simple" };
        options.Databases.AdminToken = "admin-secret";
        await using var app = ServerHost.Build(options);
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("0.0.0.0", "127.0.0.1")).Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/databases") { Content = JsonContent.Create(new { name = "app" }) };
        request.Headers.Authorization = new("Bearer", "admin-secret");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await app.StopAsync();
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("localhost", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("192.0.2.2", false)]
    [InlineData("db.example.com", false)]
    public void Loopback_addresses_are_recognised(string host, bool loopback) => Assert.Equal(loopback, AnonymousAccess.IsLoopback(host));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
