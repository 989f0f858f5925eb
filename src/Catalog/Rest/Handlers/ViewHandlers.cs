using System.Text.Json;
using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Store;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary>Views (view-spec.md): create, list, load, exists, replace (commit), rename, drop.</summary>
internal static class ViewHandlers
{
    private const int MaxAttempts = 20;

    public static Task ListAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var page = PageRequest.From(context.Request);
        var (names, next) = page.Cut(catalog.Store.ListNames(CatalogObjectKind.View, ns, page.After, page.FetchLimit), n => n);
        return TableHandlers.WriteIdentifiersAsync(context, ns, names, page.Paged, next);
    }

    public static async Task CreateAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "CreateViewRequest";
        var ns = RouteParameters.Namespace(context);
        using var doc = await RequestJson.ReadAsync(context, type);
        var body = doc.RootElement;
        RequestJson.OnlyFields(body, type, "name", "location", "schema", "view-version", "properties");
        var name = RequestJson.RequiredString(body, type, "name");
        PathSegment.Check(name, "view name");
        if (!catalog.Store.NamespaceExists(ns)) throw RestException.NoSuchNamespace(ns);
        var location = (RequestJson.OptionalString(body, type, "location") ?? catalog.Files.DefaultLocation(ns, name)).TrimEnd('/');
        catalog.Files.Key(location);
        var view = ViewDocument.Create(location, RequestJson.Required(body, type, "schema"), RequestJson.Required(body, type, "view-version"),
            RequestJson.StringMap(body, type, "properties"), catalog.Time.GetUtcNow().ToUnixTimeMilliseconds());
        var bytes = view.ToUtf8();
        var metadataLocation = await catalog.Files.WriteAsync(location, null, bytes, context.RequestAborted);
        catalog.Store.Create(CatalogObjectKind.View, ns, name, metadataLocation);
        await WriteLoadResultAsync(context, metadataLocation, bytes);
    }

    public static async Task LoadAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "view");
        var location = catalog.Store.LoadMetadataLocation(CatalogObjectKind.View, ns, name) ?? throw NotFound(catalog, ns, name);
        await WriteLoadResultAsync(context, location, await catalog.Files.ReadAsync(location, context.RequestAborted));
    }

    public static Task ExistsAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "view");
        if (catalog.Store.LoadMetadataLocation(CatalogObjectKind.View, ns, name) is null) throw NotFound(catalog, ns, name);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    public static Task DropAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "view");
        if (!catalog.Store.Drop(CatalogObjectKind.View, ns, name)) throw NotFound(catalog, ns, name);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    public static Task RenameAsync(HttpContext context, RestCatalog catalog) => TableHandlers.RenameAsync(context, catalog, CatalogObjectKind.View);

    /// <summary>Replaces a view: requirements (assert-view-uuid) checked, updates applied, then compare-and-swap, retried on a lost race.</summary>
    public static async Task ReplaceAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "CommitViewRequest";
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "view");
        using var doc = await RequestJson.ReadAsync(context, type);
        var body = doc.RootElement;
        RequestJson.OnlyFields(body, type, "identifier", "requirements", "updates");
        var requirements = body.TryGetProperty("requirements", out var r) && r.ValueKind == JsonValueKind.Array ? r : default;
        var updates = RequestJson.Required(body, type, "updates");
        if (updates.ValueKind != JsonValueKind.Array) throw RequestJson.Mistyped(type, "updates", "an array", updates);
        for (var attempt = 1; ; attempt++)
        {
            var current = catalog.Store.LoadMetadataLocation(CatalogObjectKind.View, ns, name) ?? throw NotFound(catalog, ns, name);
            var view = ViewDocument.Parse(await catalog.Files.ReadAsync(current, context.RequestAborted));
            if (requirements.ValueKind == JsonValueKind.Array)
                foreach (var requirement in requirements.EnumerateArray()) view.Check(requirement);
            var now = catalog.Time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var update in updates.EnumerateArray()) view.Apply(update, now);
            var bytes = view.ToUtf8();
            var next = await catalog.Files.WriteAsync(view.Location, current, bytes, context.RequestAborted);
            if (catalog.Store.TrySwap(CatalogObjectKind.View, [new MetadataSwap(ns, name, current, next)]) < 0)
            {
                await WriteLoadResultAsync(context, next, bytes);
                return;
            }
            if (attempt == MaxAttempts)
                throw RestException.CommitFailed($"View {ns.Qualify(name)} kept changing concurrently; gave up after {MaxAttempts} attempts.");
        }
    }

    private static Task WriteLoadResultAsync(HttpContext context, string metadataLocation, byte[] metadata) =>
        ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("metadata-location", metadataLocation);
            w.WritePropertyName("metadata");
            w.WriteRawValue(metadata, skipInputValidation: true);
            w.WriteStartObject("config");
            w.WriteEndObject();
            w.WriteEndObject();
        });

    private static RestException NotFound(RestCatalog catalog, Namespace ns, string name) =>
        catalog.Store.NamespaceExists(ns) ? RestException.NoSuchView(ns, name) : RestException.NoSuchNamespace(ns);
}
