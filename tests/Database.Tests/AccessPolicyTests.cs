using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace DataPlane.Database.Tests;

/// <summary>A server that does not allow anonymous access (as on a non-loopback address): databases without tokens are closed.</summary>
public sealed class AccessPolicyTests : IAsyncLifetime
{
    private const string Admin = "admin-secret-for-tests";
    private readonly TempDirectory _dir = new();
    private DatabaseServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await DatabaseServer.StartAsync(new DatabaseOptions { DataDirectory = _dir.Path, SyncCommits = false, AllowAnonymous = false, AdminToken = Admin });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, string? token)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        using var response = await _server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Message(JsonElement body) => body.GetProperty("error").GetProperty("message").GetString()!;

    [Fact]
    public async Task Creating_a_database_needs_the_admin_token()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/databases", new { name = "app" }, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("Creating database 'app' needs the admin token", Message(body));
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "api/v1/databases", new { name = "app" }, token: "guess")).Status);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v1/databases", new { name = "app" }, Admin)).Status);
    }

    [Fact]
    public async Task A_database_without_tokens_is_closed_until_the_admin_issues_one()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v1/databases", new { name = "app", replicas = 1 }, Admin)).Status);

        foreach (string? token in new[] { null, "any-token" })
        {
            var (status, body) = await SendAsync(HttpMethod.Post, "db/app/query", new { sql = "SELECT 1" }, token);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("anonymous_access_off", body.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("Database 'app' has no tokens and anonymous access is off", Message(body));
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "db/app/log?after=0", null, token)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "db/app/snapshot", null, token)).Status);
        }
        var (refused, refusal) = await SendAsync(HttpMethod.Post, "api/v1/databases/app/tokens", new { access = "read-write" }, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        Assert.Contains("Issuing tokens for 'app' needs the admin token", Message(refusal));

        var (issued, token1) = await SendAsync(HttpMethod.Post, "api/v1/databases/app/tokens", new { access = "read-write" }, Admin);
        Assert.Equal(HttpStatusCode.Created, issued);
        string writer = token1.GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "db/app/query", new { sql = "CREATE TABLE t(x)" }, writer)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "db/app/query", new { sql = "SELECT 1" }, token: null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "db/app/query", new { sql = "SELECT 1" }, Admin)).Status);
    }

    [Fact]
    public async Task Deleting_a_database_needs_its_read_write_token_or_the_admin_token()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "api/v1/databases", new { name = "app", replicas = 0 }, Admin)).Status);
        var (_, issued) = await SendAsync(HttpMethod.Post, "api/v1/databases/app/tokens", new { access = "read-only" }, Admin);
        string reader = issued.GetProperty("token").GetString()!;

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, "api/v1/databases/app", null, token: null)).Status);
        var (status, body) = await SendAsync(HttpMethod.Delete, "api/v1/databases/app", null, reader);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("Deleting database 'app' needs one of its read-write tokens", Message(body));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "api/v1/databases/app", null, Admin)).Status);
    }

    [Fact]
    public async Task Without_an_admin_token_the_refusal_says_which_settings_open_the_server()
    {
        await using var server = await DatabaseServer.StartAsync(new DatabaseOptions { DataDirectory = Path.Combine(_dir.Path, "bare"), SyncCommits = false, AllowAnonymous = false });
        using var response = await server.Http.PostAsJsonAsync("api/v1/databases", new { name = "app" });
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Databases:AdminToken", Message(body));
        Assert.Contains("Databases:AllowAnonymous", Message(body));
    }
}
