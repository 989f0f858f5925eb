using System.Net;
using System.Net.Http.Headers;
using System.Text;
using DataPlane.Hosting;
using DataPlane.TestServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// Configured tokens are required on every listen address, loopback ones included (on 127.0.0.2, ::1 or localhost
/// they were ignored: anyone could create and delete streams and databases); requests without a token get in only
/// when no tokens are configured, by default only on loopback; GET /metrics follows the same rule.
/// </summary>
public sealed class TokensOnEveryAddressTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-tokens-").FullName;

    private static readonly Dictionary<string, string> Tokens = new()
    {
        ["DATAPLANE_PIPELINES__TOKENS__0__TOKEN"] = "pipes-secret",
        ["DATAPLANE_PIPELINES__TOKENS__1__TOKEN"] = "producer-secret",
        ["DATAPLANE_PIPELINES__TOKENS__1__INGESTONLY"] = "true",
        ["DATAPLANE_CATALOG__TOKENS__0__TOKEN"] = "catalog-secret",
        ["DATAPLANE_DATABASES__ADMINTOKEN"] = "admin-secret",
    };

    private const string Stream = """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}]}}""";

    [Fact]
    public async Task A_serve_process_on_127_0_0_2_with_tokens_refuses_every_request_without_one()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = DataPlaneProcess.Start(["serve", "--host", "127.0.0.2", "--port", port.ToString(), "--data", "state"], _workDir, Tokens);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.2:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilServingAsync(http, server);

        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Post, "api/v1/streams", Stream),
            (HttpMethod.Get, "api/v1/streams", null),
            (HttpMethod.Post, "streams/events", """{"id": 1}"""),
            (HttpMethod.Post, "api/v1/databases", """{"name": "app"}"""),
            (HttpMethod.Get, "iceberg/v1/namespaces", null),
            (HttpMethod.Post, "iceberg/v1/namespaces", """{"namespace": ["ns"]}"""),
            (HttpMethod.Get, "metrics", null),
        })
        {
            Assert.True(HttpStatusCode.Unauthorized == await StatusAsync(http, method, path, body, token: null), $"{method} {path} without a token");
            Assert.True(await StatusAsync(http, method, path, body, token: "guess") is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden,
                $"{method} {path} with a wrong token");
        }

        Assert.Equal(HttpStatusCode.Created, await StatusAsync(http, HttpMethod.Post, "api/v1/streams", Stream, "pipes-secret"));
        Assert.Equal(HttpStatusCode.Created, await StatusAsync(http, HttpMethod.Post, "api/v1/databases", """{"name": "app"}""", "admin-secret"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "iceberg/v1/namespaces", null, "catalog-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Delete, "api/v1/streams/events", null, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Delete, "api/v1/databases/app", null, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Post, "db/app/query", """{"sql": "SELECT 1"}""", null));
        foreach (var token in new[] { "pipes-secret", "catalog-secret", "admin-secret" })
            Assert.True(HttpStatusCode.OK == await StatusAsync(http, HttpMethod.Get, "metrics", null, token), $"metrics with {token}");
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Get, "metrics", null, "producer-secret"));
        // What the refused requests tried is not there; what the tokens made is.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "api/v1/streams/events", null, "pipes-secret"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(http, HttpMethod.Get, "iceberg/v1/namespaces/ns", null, "catalog-secret"));
        Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("AllowAnonymous is on", server.Output);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("localhost")]
    public async Task On_any_loopback_address_configured_tokens_are_required(string host)
    {
        await using var app = Build(host, new Dictionary<string, string?>
        {
            ["Pipelines:Tokens:0:Token"] = "pipes-secret", ["Catalog:Tokens:0:Token"] = "catalog-secret", ["Databases:AdminToken"] = "admin-secret",
        });
        await app.StartAsync();
        using var http = Client(app);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Post, "api/v1/streams", Stream, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Post, "api/v1/databases", """{"name": "app"}""", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Get, "iceberg/v1/namespaces", null, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Get, "metrics", null, null));
        Assert.Equal(HttpStatusCode.Created, await StatusAsync(http, HttpMethod.Post, "api/v1/streams", Stream, "pipes-secret"));
        await app.StopAsync();
    }

    [Theory]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData("0.0.0.0", HttpStatusCode.Unauthorized)]
    public async Task Without_tokens_requests_without_one_get_in_on_loopback_only_metrics_included(string host, HttpStatusCode expected)
    {
        await using var app = Build(host, []);
        await app.StartAsync();
        using var http = Client(app);

        Assert.Equal(expected, await StatusAsync(http, HttpMethod.Get, "metrics", null, null));
        Assert.Equal(expected, await StatusAsync(http, HttpMethod.Get, "iceberg/v1/namespaces", null, null));
        Assert.Equal(expected, await StatusAsync(http, HttpMethod.Get, "api/v1/streams", null, null));
        await app.StopAsync();
    }

    private WebApplication Build(string host, Dictionary<string, string?> settings)
    {
        settings["Host"] = host;
        // Kestrel binds "localhost" to a given port only.
        settings["Port"] = DataPlaneProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Data"] = Path.Combine(_workDir, Guid.NewGuid().ToString("N"));
        settings["LogFormat"] = "simple";
        var (options, configuration) = DataPlaneConfiguration.Load(null, settings);
        return ServerHost.Build(options, configuration);
    }

    private static HttpClient Client(WebApplication app)
    {
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("0.0.0.0", "127.0.0.1"));
        return new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, HttpMethod method, string path, string? body, string? token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task WaitUntilServingAsync(HttpClient http, DataPlaneProcess server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.False(server.HasExited, server.Output);
            try
            {
                if ((await http.GetAsync("healthz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"dataplane did not answer on 127.0.0.2 within 90 s:\n{server.Output}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
