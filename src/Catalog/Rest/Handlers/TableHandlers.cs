using System.Text.Json;
using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary>Tables: create (and staged create), list, load, exists, drop (and purge), rename, register, commit, metrics, and multi-table transactions.</summary>
internal static class TableHandlers
{
    private static readonly byte[] ClosingBrace = "}"u8.ToArray();

    /// <summary>The largest metadata file register reads: the request names the file, which could be any object in the warehouse.</summary>
    private const long MaxRegisteredMetadataBytes = 256L << 20;

    public static Task ListAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var page = PageRequest.From(context.Request);
        var (names, next) = page.Cut(catalog.Store.ListNames(CatalogObjectKind.Table, ns, page.After, page.FetchLimit), n => n);
        return WriteIdentifiersAsync(context, ns, names, page.Paged, next);
    }

    internal static Task WriteIdentifiersAsync(HttpContext context, Namespace ns, IReadOnlyList<string> names, bool paged, string? next) =>
        ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            if (paged) w.WriteString("next-page-token", next);
            w.WriteStartArray("identifiers");
            foreach (var name in names) ResponseJson.WriteIdentifier(w, ns, name);
            w.WriteEndArray();
            w.WriteEndObject();
        });

    public static async Task CreateAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "CreateTableRequest";
        var ns = RouteParameters.Namespace(context);
        using var doc = await RequestJson.ReadAsync(context, type);
        var body = doc.RootElement;
        RequestJson.OnlyFields(body, type, "name", "location", "schema", "partition-spec", "write-order", "stage-create", "properties");
        var name = RequestJson.RequiredString(body, type, "name");
        PathSegment.Check(name, "table name");
        if (!catalog.Store.NamespaceExists(ns)) throw RestException.NoSuchNamespace(ns);
        if (catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name) is not null)
            throw RestException.AlreadyExists($"Table already exists: {ns.Qualify(name)}");
        var location = catalog.Files.ToTableLocation(RequestJson.OptionalString(body, type, "location") ?? catalog.Files.DefaultLocation(ns, name));
        var schemaJson = RequestJson.Required(body, type, "schema");
        var specJson = Optional(body, "partition-spec");
        var orderJson = Optional(body, "write-order");
        var properties = RequestJson.StringMap(body, type, "properties");
        var metadata = TableCommitter.Build(() =>
        {
            var builder = TableMetadataBuilder.ForNewTable(location.Location, Guid.NewGuid().ToString())
                .WithTimestamp(catalog.Time.GetUtcNow().ToUnixTimeMilliseconds())
                .Apply(new TableUpdate.AddSchema(SchemaJson.Read(schemaJson)))
                .Apply(new TableUpdate.SetCurrentSchema(-1));
            if (specJson is { } spec) builder.Apply(new TableUpdate.AddSpec(PartitionSpecJson.Read(spec))).Apply(new TableUpdate.SetDefaultSpec(-1));
            if (orderJson is { } order) builder.Apply(new TableUpdate.AddSortOrder(SortOrderJson.Read(order))).Apply(new TableUpdate.SetDefaultSortOrder(-1));
            if (properties.Count > 0) builder.Apply(new TableUpdate.SetProperties(properties));
            return builder.Build();
        });
        var bytes = TableCommitter.ToUtf8(metadata);
        await catalog.Locations.CheckFreeAsync(location, ns, name, create: true, context.RequestAborted);
        if (RequestJson.OptionalBool(body, type, "stage-create"))
        {
            await WriteLoadResultAsync(context, catalog, null, bytes, location.Location);
            return;
        }
        var metadataLocation = await catalog.Files.WriteAsync(location.Location, null, bytes, context.RequestAborted);
        try
        {
            catalog.Store.Create(CatalogObjectKind.Table, ns, name, metadataLocation, location);
        }
        catch (CatalogException)
        {
            // Safe to delete: refused (created concurrently, its namespace dropped, or its location taken meanwhile)
            // before the row was written, so nothing references the file, whose name was fresh.
            await catalog.Files.DeleteUnreferencedAsync(metadataLocation);
            throw;
        }
        await WriteLoadResultAsync(context, catalog, metadataLocation, bytes, location.Location);
    }

    public static async Task LoadAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "table");
        var snapshots = context.Request.Query["snapshots"].ToString();
        if (snapshots.Length > 0 && snapshots is not ("all" or "refs"))
            throw RestException.BadRequest($"Invalid snapshots '{snapshots}': valid values are all, refs.");
        var location = catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name) ?? throw NotFound(catalog, ns, name);
        var file = await catalog.Files.ReadFileAsync(location, context.RequestAborted);
        var etag = "\"" + location.GetHashCode(StringComparison.Ordinal).ToString("x8") + snapshots + "\"";
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            context.Response.StatusCode = 304;
            return;
        }
        context.Response.Headers.ETag = etag;
        if (snapshots == "refs")
        {
            // Only the snapshots some branch or tag points at; the full history stays in the metadata file.
            var m = file.Table;
            var referenced = m.Refs.Values.Select(r => r.SnapshotId).ToHashSet();
            if (m.CurrentSnapshotId is { } currentId) referenced.Add(currentId);
            var bytes = TableCommitter.ToUtf8(m with { Snapshots = m.Snapshots.Where(s => referenced.Contains(s.SnapshotId)).ToList() });
            await WriteLoadResultAsync(context, catalog, location, bytes, file.TableLocation);
            return;
        }
        // The common answer depends only on the file and the catalog's settings: serialize it once per file.
        var body = file.LoadResult ??= ResponseJson.Serialize(w => WriteLoadResult(w, catalog, context, location, file.Bytes, file.TableLocation));
        await ResponseJson.WriteAsync(context, 200, body);
    }

    public static Task ExistsAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "table");
        if (catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name) is null) throw NotFound(catalog, ns, name);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    public static async Task DropAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "table");
        var purge = context.Request.Query["purgeRequested"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        var location = catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name) ?? throw NotFound(catalog, ns, name);
        var file = purge ? await catalog.Files.ReadFileAsync(location, context.RequestAborted) : null;
        if (!catalog.Store.Drop(CatalogObjectKind.Table, ns, name)) throw NotFound(catalog, ns, name);
        if (file is not null)
        {
            var purged = await catalog.Purge.RunAsync(file.Table, location, context.RequestAborted);
            catalog.Logger.LogInformation("Dropped table {Table} and purged {Deleted} of the {Referenced} files its metadata references ({Unreadable} manifest file(s) could not be read)",
                ns.Qualify(name), purged.Deleted, purged.Deleted + purged.Kept, purged.Unreadable.Count);
        }
        context.Response.StatusCode = 204;
    }

    public static Task RenameAsync(HttpContext context, RestCatalog catalog) => RenameAsync(context, catalog, CatalogObjectKind.Table);

    /// <summary>Renames a table or a view: the spec's request for both is a <c>RenameTableRequest</c>.</summary>
    internal static async Task RenameAsync(HttpContext context, RestCatalog catalog, CatalogObjectKind kind)
    {
        const string type = "RenameTableRequest";
        using var doc = await RequestJson.ReadAsync(context, type);
        RequestJson.OnlyFields(doc.RootElement, type, "source", "destination");
        var (fromNs, from) = RequestJson.RequiredIdentifier(doc.RootElement, type, "source");
        var (toNs, to) = RequestJson.RequiredIdentifier(doc.RootElement, type, "destination");
        PathSegment.Check(to, kind == CatalogObjectKind.View ? "view name" : "table name");
        catalog.Store.Rename(kind, fromNs, from, toNs, to);
        context.Response.StatusCode = 204;
    }

    public static async Task RegisterAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "RegisterTableRequest";
        var ns = RouteParameters.Namespace(context);
        using var doc = await RequestJson.ReadAsync(context, type);
        var body = doc.RootElement;
        RequestJson.OnlyFields(body, type, "name", "metadata-location", "overwrite");
        var name = RequestJson.RequiredString(body, type, "name");
        PathSegment.Check(name, "table name");
        var metadataLocation = RequestJson.RequiredString(body, type, "metadata-location");
        var overwrite = RequestJson.OptionalBool(body, type, "overwrite");
        var bytes = (await catalog.Files.ReadFileAsync(metadataLocation, context.RequestAborted, MaxRegisteredMetadataBytes)).Bytes;
        var metadata = TableCommitter.ReadMetadata(bytes, metadataLocation);
        var location = catalog.Files.ToTableLocation(metadata.Location, $"The location in {metadataLocation}");
        catalog.Committer.CheckReferences(metadata, metadataLocation);
        var existing = catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name);
        if (existing is not null && !overwrite)
            throw RestException.AlreadyExists($"Table already exists: {ns.Qualify(name)} (pass overwrite=true to replace its metadata).");
        await catalog.Locations.CheckFreeAsync(location, ns, name, create: true, context.RequestAborted);
        if (catalog.Store.TrySwap(CatalogObjectKind.Table, [new MetadataSwap(ns, name, existing, metadataLocation, location)]) >= 0)
            throw RestException.CommitFailed($"Table {ns.Qualify(name)} changed while it was being registered; retry.");
        await WriteLoadResultAsync(context, catalog, metadataLocation, bytes, metadata.Location);
    }

    public static async Task CommitAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "CommitTableRequest";
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "table");
        using var doc = await RequestJson.ReadAsync(context, type);
        var change = ReadChange(doc.RootElement, type, (ns, name));
        var committed = await catalog.Committer.CommitAsync(change);
        // CommitTableResponse carries the whole metadata, which grows with every snapshot: send the file's bytes as
        // they are between a small head and the closing brace rather than copying them into a JSON writer's buffer.
        var head = ResponseJson.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("metadata-location", committed.MetadataLocation);
            w.WritePropertyName("metadata");
        });
        await ResponseJson.WriteAsync(context, 200, head, committed.Metadata, ClosingBrace);
    }

    public static async Task CommitTransactionAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "CommitTransactionRequest";
        using var doc = await RequestJson.ReadAsync(context, type);
        RequestJson.OnlyFields(doc.RootElement, type, "table-changes");
        var list = RequestJson.Required(doc.RootElement, type, "table-changes");
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw RestException.BadRequest("Field 'table-changes' in CommitTransactionRequest must be a non-empty array of CommitTableRequest.");
        var changes = list.EnumerateArray().Select(c => ReadChange(c, "CommitTransactionRequest.table-changes[]", null)).ToList();
        await catalog.Committer.CommitTransactionAsync(changes);
        context.Response.StatusCode = 204;
    }

    public static async Task ReportMetricsAsync(HttpContext context, RestCatalog catalog)
    {
        const string type = "ReportMetricsRequest";
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "table");
        using var doc = await RequestJson.ReadAsync(context, type);
        var reportType = RequestJson.RequiredString(doc.RootElement, type, "report-type");
        if (catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name) is null) throw NotFound(catalog, ns, name);
        // A report can be up to the body limit; the log keeps its start.
        var report = doc.RootElement.GetRawText();
        catalog.Logger.LogInformation("Metrics {ReportType} for {Table}: {Report}", reportType, ns.Qualify(name), report.Length > 4096 ? report[..4096] + "..." : report);
        context.Response.StatusCode = 204;
    }

    /// <summary>No credentials to vend (see <see cref="StorageConfig"/>): an empty list for a table that exists.</summary>
    public static async Task LoadCredentialsAsync(HttpContext context, RestCatalog catalog)
    {
        var ns = RouteParameters.Namespace(context);
        var name = RouteParameters.Name(context, "table");
        if (catalog.Store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name) is null) throw NotFound(catalog, ns, name);
        await ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("storage-credentials");
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static TableCommitter.Change ReadChange(JsonElement body, string type, (Namespace, string)? fromPath)
    {
        if (body.ValueKind != JsonValueKind.Object) throw RestException.BadRequest($"{type} must be an object.");
        RequestJson.OnlyFields(body, type, "identifier", "requirements", "updates");
        Namespace ns;
        string name;
        if (fromPath is { } p)
        {
            (ns, name) = p;
            if (body.TryGetProperty("identifier", out var id) && id.ValueKind == JsonValueKind.Object)
            {
                var (bodyNs, bodyName) = RequestJson.RequiredIdentifier(body, type, "identifier");
                if (bodyNs.Key != ns.Key || bodyName != name)
                    throw RestException.BadRequest($"The identifier {bodyNs.Qualify(bodyName)} in the body does not match the path's table {ns.Qualify(name)}.");
            }
        }
        else (ns, name) = RequestJson.RequiredIdentifier(body, type, "identifier");
        return TableCommitter.Parse(ns, name, ArrayField(body, type, "requirements"), ArrayField(body, type, "updates"));
    }

    private static JsonElement ArrayField(JsonElement body, string type, string field)
    {
        var v = RequestJson.Required(body, type, field);
        if (v.ValueKind != JsonValueKind.Array) throw RequestJson.Mistyped(type, field, "an array", v);
        foreach (var item in v.EnumerateArray())
            if (item.ValueKind != JsonValueKind.Object) throw RequestJson.Mistyped(type, field, "an array of objects", item);
        return v;
    }

    internal static Task WriteLoadResultAsync(HttpContext context, RestCatalog catalog, string? metadataLocation, byte[] metadata, string tableLocation) =>
        ResponseJson.WriteAsync(context, 200, w => WriteLoadResult(w, catalog, context, metadataLocation, metadata, tableLocation));

    private static void WriteLoadResult(Utf8JsonWriter w, RestCatalog catalog, HttpContext context, string? metadataLocation, byte[] metadata, string tableLocation)
    {
        w.WriteStartObject();
        if (metadataLocation is not null) w.WriteString("metadata-location", metadataLocation);
        w.WritePropertyName("metadata");
        w.WriteRawValue(metadata, skipInputValidation: true);
        StorageConfig.Write(w, catalog, context, tableLocation);
        w.WriteEndObject();
    }

    private static JsonElement? Optional(JsonElement body, string field) =>
        body.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static RestException NotFound(RestCatalog catalog, Namespace ns, string name) =>
        catalog.Store.NamespaceExists(ns) ? RestException.NoSuchTable(ns, name) : RestException.NoSuchNamespace(ns);
}
