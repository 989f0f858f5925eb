using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// A reverse proxy on a real port in front of a catalog server: forwards every request and answer as they are, records
/// the catalog's answer to each table commit (<c>POST .../namespaces/{ns}/tables/{name}</c>), and runs a test's action
/// just before the next commit reaches the catalog, so another writer's commit lands between a client's load and its
/// commit at a known moment.
/// </summary>
internal sealed partial class CatalogProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private Func<Task>? _beforeNextCommit;

    private CatalogProxy(WebApplication app, HttpClient upstream, Uri address)
    {
        _app = app;
        _upstream = upstream;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The catalog's answers to the table commits forwarded, in order: status and the error type when refused.</summary>
    public ConcurrentQueue<(int Status, string? ErrorType)> Commits { get; } = new();

    public void BeforeNextCommit(Func<Task> action) => _beforeNextCommit = action;

    public static async Task<CatalogProxy> StartAsync(Uri upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var http = new HttpClient { BaseAddress = upstream, Timeout = TimeSpan.FromMinutes(2) };
        CatalogProxy? proxy = null;
        app.Run(context => proxy!.ForwardAsync(context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return proxy = new CatalogProxy(app, http, new Uri(address + "/"));
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        bool commit = request.Method == HttpMethods.Post && TableCommitPath().IsMatch(request.Path.Value ?? "");
        if (commit && Interlocked.Exchange(ref _beforeNextCommit, null) is { } action)
            await action();
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path.ToUriComponent().TrimStart('/') + request.QueryString.ToUriComponent());
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        if (body.Length > 0 || request.ContentType is not null)
        {
            message.Content = new ByteArrayContent(body.ToArray());
            if (request.ContentType is { } type)
                message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        foreach (var (name, values) in request.Headers)
            if (name is not ("Host" or "Content-Length" or "Content-Type" or "Transfer-Encoding" or "Accept-Encoding"))
                message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        using var response = await _upstream.SendAsync(message);
        var answer = await response.Content.ReadAsByteArrayAsync();
        if (commit)
            Commits.Enqueue(((int)response.StatusCode, response.IsSuccessStatusCode ? null : ErrorType(answer)));
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } contentType)
            context.Response.ContentType = contentType.ToString();
        await context.Response.Body.WriteAsync(answer);
    }

    private static string? ErrorType(byte[] answer)
    {
        try
        {
            using var doc = JsonDocument.Parse(answer);
            return doc.RootElement.GetProperty("error").GetProperty("type").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    [GeneratedRegex("/namespaces/[^/]+/tables/[^/]+$")]
    private static partial Regex TableCommitPath();

    public async ValueTask DisposeAsync()
    {
        _upstream.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
