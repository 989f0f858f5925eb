using DataPlane.Catalog.Rest.Auth;
using DataPlane.Catalog.Rest.Handlers;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Catalog.Rest;

/// <summary>
/// The route table: each spec endpoint under <c>/iceberg/v1</c> and again under <c>/iceberg/v1/{prefix}</c>, wrapped
/// so that every handler runs after the token check and every failure leaves as an <c>IcebergErrorResponse</c>.
/// The same table is what <c>GET /v1/config</c> advertises in <c>endpoints</c>.
/// </summary>
internal static class RestCatalogRoutes
{
    public const string Root = "/iceberg/v1";

    private sealed record Route(string Method, string Path, bool Write, Func<HttpContext, RestCatalog, Task> Handler);

    private static readonly Route[] Routes =
    [
        new("GET", "/namespaces", false, NamespaceHandlers.ListAsync),
        new("POST", "/namespaces", true, NamespaceHandlers.CreateAsync),
        new("GET", "/namespaces/{namespace}", false, NamespaceHandlers.LoadAsync),
        new("HEAD", "/namespaces/{namespace}", false, NamespaceHandlers.ExistsAsync),
        new("DELETE", "/namespaces/{namespace}", true, NamespaceHandlers.DropAsync),
        new("POST", "/namespaces/{namespace}/properties", true, NamespaceHandlers.UpdatePropertiesAsync),
        new("GET", "/namespaces/{namespace}/tables", false, TableHandlers.ListAsync),
        new("POST", "/namespaces/{namespace}/tables", true, TableHandlers.CreateAsync),
        new("GET", "/namespaces/{namespace}/tables/{table}", false, TableHandlers.LoadAsync),
        new("HEAD", "/namespaces/{namespace}/tables/{table}", false, TableHandlers.ExistsAsync),
        new("POST", "/namespaces/{namespace}/tables/{table}", true, TableHandlers.CommitAsync),
        new("DELETE", "/namespaces/{namespace}/tables/{table}", true, TableHandlers.DropAsync),
        new("GET", "/namespaces/{namespace}/tables/{table}/credentials", false, TableHandlers.LoadCredentialsAsync),
        new("POST", "/namespaces/{namespace}/register", true, TableHandlers.RegisterAsync),
        new("POST", "/namespaces/{namespace}/tables/{table}/metrics", false, TableHandlers.ReportMetricsAsync),
        new("POST", "/tables/rename", true, TableHandlers.RenameAsync),
        new("POST", "/transactions/commit", true, TableHandlers.CommitTransactionAsync),
        new("GET", "/namespaces/{namespace}/views", false, ViewHandlers.ListAsync),
        new("POST", "/namespaces/{namespace}/views", true, ViewHandlers.CreateAsync),
        new("GET", "/namespaces/{namespace}/views/{view}", false, ViewHandlers.LoadAsync),
        new("HEAD", "/namespaces/{namespace}/views/{view}", false, ViewHandlers.ExistsAsync),
        new("POST", "/namespaces/{namespace}/views/{view}", true, ViewHandlers.ReplaceAsync),
        new("DELETE", "/namespaces/{namespace}/views/{view}", true, ViewHandlers.DropAsync),
        new("POST", "/views/rename", true, ViewHandlers.RenameAsync),
    ];

    /// <summary>"VERB /v1/{prefix}/path" for every route, as <c>CatalogConfig.endpoints</c> spells them.</summary>
    public static readonly IReadOnlyList<string> Endpoints = Routes.Select(r => $"{r.Method} /v1/{{prefix}}{r.Path}").ToArray();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(Root + "/config", Wrap(false, ConfigHandler.GetAsync, prefixed: false));
        app.MapPost(Root + "/oauth/tokens", Wrap(null, OAuthTokenHandler.HandleAsync, prefixed: false));
        foreach (var r in Routes)
        {
            app.MapMethods(Root + r.Path, [r.Method], Wrap(r.Write, r.Handler, prefixed: false));
            app.MapMethods(Root + "/{prefix}" + r.Path, [r.Method], Wrap(r.Write, r.Handler, prefixed: true));
        }
        app.Map(Root + "/{**rest}", Wrap(false, (c, _) => throw RestException.NotFound(
            $"No Iceberg REST endpoint {c.Request.Method} {c.Request.Path}; GET {Root}/config lists the supported ones."), prefixed: false));
    }

    /// <param name="write">Whether the route changes the catalog (read-only tokens are refused); null: no token check at all.</param>
    private static RequestDelegate Wrap(bool? write, Func<HttpContext, RestCatalog, Task> handler, bool prefixed) => async context =>
    {
        var catalog = context.RequestServices.GetRequiredService<RestCatalog>();
        try
        {
            if (write is { } w) catalog.Authenticator.Check(context, w);
            if (prefixed && context.GetRouteValue("prefix") is string prefix && prefix != catalog.Options.Name)
                throw RestException.NoSuchWarehouse($"Unknown prefix '{prefix}': this catalog's prefix is '{catalog.Options.Name}' (or none).");
            await handler(context, catalog);
        }
        catch (RestException e)
        {
            await FailAsync(context, e);
        }
        catch (CatalogException e)
        {
            await FailAsync(context, RestException.From(e));
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6) // SQLITE_BUSY, SQLITE_LOCKED
        {
            catalog.Logger.LogWarning(e, "Catalog store busy on {Method} {Path}", context.Request.Method, context.Request.Path);
            context.Response.Headers.RetryAfter = "1";
            await FailAsync(context, RestException.ServiceUnavailable("The catalog store is busy; retry shortly."));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (InvalidObjectKeyException e)
        {
            // A location the store refuses (the local store's reserved .dataplane folder...): the request's value, not the server.
            await FailAsync(context, RestException.BadRequest(e.Message));
        }
        catch (BadHttpRequestException e)
        {
            // The request itself was malformed on the wire (a body cut short, too large).
            await FailAsync(context, new RestException(e.StatusCode, "BadRequestException", e.Message));
        }
        catch (Exception e)
        {
            catalog.Logger.LogError(e, "Iceberg REST {Method} {Path} failed", context.Request.Method, context.Request.Path);
            await FailAsync(context, new RestException(500, "ServerErrorException", $"{e.GetType().Name}: {e.Message}"));
        }
    };

    private static Task FailAsync(HttpContext context, RestException e)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = e.Code;
            return Task.CompletedTask;
        }
        return ResponseJson.WriteErrorAsync(context, e);
    }
}
