using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Store;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary>Namespaces: create, list (children of <c>parent</c>), load, exists, drop when empty, update properties.</summary>
internal static class NamespaceHandlers
{
    public static Task ListAsync(HttpContext context, RestCatalog catalog)
    {
        var parentText = context.Request.Query["parent"].ToString();
        Namespace? parent = parentText.Length == 0 ? null : Namespace.FromPath(parentText);
        var page = PageRequest.From(context.Request);
        var rows = catalog.Store.ListNamespaces(parent, page.After, page.FetchLimit);
        var (keys, next) = page.Cut(rows, k => k);
        return ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            if (page.Paged) w.WriteString("next-page-token", next);
            w.WriteStartArray("namespaces");
            foreach (var key in keys) ResponseJson.WriteNamespace(w, Namespace.FromKey(key));
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public static async Task CreateAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "CreateNamespaceRequest";
        using var doc = await RequestJson.ReadAsync(context, type);
        var body = doc.RootElement;
        RequestJson.OnlyFields(body, type, "namespace", "properties");
        var ns = Namespace.ForCreate(RequestJson.RequiredNamespace(body, type, "namespace").Levels);
        var properties = RequestJson.StringMap(body, type, "properties");
        if (!catalog.Store.CreateNamespace(ns, properties))
            throw RestException.AlreadyExists($"Namespace already exists: {ns}");
        await WriteNamespaceAsync(context, ns, properties);
    }

    public static Task LoadAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var properties = catalog.Store.LoadNamespace(ns) ?? throw RestException.NoSuchNamespace(ns);
        return WriteNamespaceAsync(context, ns, properties);
    }

    /// <summary>The body of a create and a load: <c>{"namespace": [...], "properties": {...}}</c>.</summary>
    private static Task WriteNamespaceAsync(HttpContext context, Namespace ns, IEnumerable<KeyValuePair<string, string>> properties) =>
        ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("namespace");
            ResponseJson.WriteNamespace(w, ns);
            w.WritePropertyName("properties");
            ResponseJson.WriteStringMap(w, properties);
            w.WriteEndObject();
        });

    public static Task ExistsAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        if (!catalog.Store.NamespaceExists(ns)) throw RestException.NoSuchNamespace(ns);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    public static Task DropAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        if (!catalog.Store.DropNamespace(ns)) throw RestException.NoSuchNamespace(ns);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    public static async Task UpdatePropertiesAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "UpdateNamespacePropertiesRequest";
        var ns = RouteParameters.Namespace(context);
        using var doc = await RequestJson.ReadAsync(context, type);
        var body = doc.RootElement;
        RequestJson.OnlyFields(body, type, "removals", "updates");
        var removals = RequestJson.StringList(body, type, "removals");
        var updates = RequestJson.StringMap(body, type, "updates");
        var both = removals.Where(updates.ContainsKey).ToList();
        if (both.Count > 0)
            throw RestException.Unprocessable($"Properties cannot be both removed and updated in one request: {string.Join(", ", both)}");
        var (removed, missing) = catalog.Store.UpdateNamespaceProperties(ns, removals.Distinct().ToList(), updates);
        await ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            ResponseJson.WriteStrings(w, "updated", updates.Keys);
            ResponseJson.WriteStrings(w, "removed", removed);
            ResponseJson.WriteStrings(w, "missing", missing);
            w.WriteEndObject();
        });
    }
}
