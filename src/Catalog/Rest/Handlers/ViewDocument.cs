using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Schemas;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary>
/// A view's metadata (view-spec.md) as a JSON document edited by the REST view actions: versions with their SQL
/// representations, the version log, schemas (parsed with the table-format core's <see cref="Schema"/>) and properties.
/// </summary>
internal sealed class ViewDocument
{
    private readonly JsonObject _m;
    private int? _lastAddedSchemaId, _lastAddedVersionId;

    private ViewDocument(JsonObject metadata) => _m = metadata;

    public static ViewDocument Parse(ReadOnlySpan<byte> json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("View metadata must be a JSON object."));

    public static ViewDocument Create(string location, JsonElement schema, JsonElement version, IReadOnlyDictionary<string, string> properties, long nowMs) =>
        Refusing("view-version", version, () => CreateCore(location, schema, version, properties, nowMs));

    private static ViewDocument CreateCore(string location, JsonElement schema, JsonElement version, IReadOnlyDictionary<string, string> properties, long nowMs)
    {
        var d = new ViewDocument(new JsonObject
        {
            ["view-uuid"] = Guid.NewGuid().ToString(),
            ["format-version"] = 1,
            ["location"] = location,
            ["current-version-id"] = -1,
            ["versions"] = new JsonArray(),
            ["version-log"] = new JsonArray(),
            ["schemas"] = new JsonArray(),
            ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        });
        d.AddSchema(schema);
        // The spec: the schema id sent inside the first view-version is replaced by the id assigned to the schema.
        var v = JsonNode.Parse(version.GetRawText()) as JsonObject ?? throw new FormatException("a view version must be an object");
        v["schema-id"] = d._lastAddedSchemaId;
        d.AddVersion(v, nowMs);
        d.SetCurrentVersion(-1, nowMs);
        return d;
    }

    public string ViewUuid => (string)_m["view-uuid"]!;
    public string Location => (string)_m["location"]!;
    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(_m);

    public void Check(JsonElement requirement) => Refusing("view requirement", requirement, () => CheckCore(requirement));

    private bool CheckCore(JsonElement requirement)
    {
        var type = RequestJson.RequiredString(requirement, "ViewRequirement", "type");
        if (type != "assert-view-uuid")
            throw CatalogException.BadRequest($"Unknown view requirement '{type}'; valid: assert-view-uuid.");
        var uuid = RequestJson.RequiredString(requirement, "ViewRequirement", "uuid");
        if (uuid != ViewUuid)
            throw CatalogException.CommitFailed($"Requirement failed: view uuid has changed: expected {uuid} != {ViewUuid}");
        return true;
    }

    public void Apply(JsonElement update, long nowMs) => Refusing("view update", update, () => ApplyCore(update, nowMs));

    /// <summary>Runs an edit, turning what the JSON model throws on a value of the wrong shape (a number where an object
    /// belongs, a string id) into a 400 naming the value, as <see cref="TableCommitter.Build"/> does for tables.</summary>
    private static T Refusing<T>(string what, JsonElement json, Func<T> edit)
    {
        try
        {
            return edit();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException or JsonException)
        {
            var text = json.GetRawText();
            throw CatalogException.BadRequest($"Invalid {what} {(text.Length > 200 ? text[..200] + "..." : text)}: {e.Message}");
        }
    }

    private bool ApplyCore(JsonElement update, long nowMs)
    {
        const string type = "ViewUpdate";
        var action = RequestJson.RequiredString(update, type, "action");
        switch (action)
        {
            case "assign-uuid": _m["view-uuid"] = RequestJson.RequiredString(update, type, "uuid"); break;
            case "upgrade-format-version":
                if (RequestJson.Required(update, type, "format-version").GetInt32() != 1)
                    throw CatalogException.BadRequest("upgrade-format-version: views have format version 1 only.");
                break;
            case "add-schema": AddSchema(RequestJson.Required(update, type, "schema")); break;
            case "set-location": _m["location"] = RequestJson.RequiredString(update, type, "location").TrimEnd('/'); break;
            case "set-properties":
            {
                var props = (JsonObject)(_m["properties"] ??= new JsonObject());
                foreach (var (k, v) in RequestJson.StringMap(update, type, "updates")) props[k] = v;
                break;
            }
            case "remove-properties":
            {
                var props = (JsonObject)(_m["properties"] ??= new JsonObject());
                foreach (var k in RequestJson.StringList(update, type, "removals")) props.Remove(k);
                break;
            }
            case "add-view-version":
                AddVersion(JsonNode.Parse(RequestJson.Required(update, type, "view-version").GetRawText()) as JsonObject
                    ?? throw new FormatException("'view-version' must be an object"), nowMs);
                break;
            case "set-current-view-version": SetCurrentVersion(RequestJson.Required(update, type, "view-version-id").GetInt32(), nowMs); break;
            default:
                throw CatalogException.BadRequest($"Unknown view update action '{action}'; valid: assign-uuid, upgrade-format-version, add-schema, set-location, " +
                    "set-properties, remove-properties, add-view-version, set-current-view-version.");
        }
        return true;
    }

    private JsonArray Array(string key) => _m[key] as JsonArray ?? (JsonArray)(_m[key] = new JsonArray());

    private void AddSchema(JsonElement json)
    {
        Schema schema;
        try { schema = SchemaJson.Read(json); }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw CatalogException.BadRequest($"add-schema: invalid view schema: {e.Message}");
        }
        var schemas = Array("schemas");
        foreach (var existing in schemas)
        {
            var s = SchemaJson.Read(JsonDocument.Parse(existing!.ToJsonString()).RootElement);
            if (s.SameSchema(schema)) { _lastAddedSchemaId = s.SchemaId; return; }
        }
        var id = schemas.Count == 0 ? 0 : schemas.Max(s => (int)s!["schema-id"]!) + 1;
        schemas.Add(JsonNode.Parse(schema.WithSchemaId(id).ToJson()));
        _lastAddedSchemaId = id;
    }

    private void AddVersion(JsonObject version, long nowMs)
    {
        if (version["representations"] is not JsonArray { Count: > 0 })
            throw CatalogException.BadRequest("add-view-version: a view version needs at least one representation.");
        if (version["default-namespace"] is not JsonArray)
            throw CatalogException.BadRequest("add-view-version: a view version needs 'default-namespace'.");
        var schemaId = (int?)version["schema-id"] ?? -1;
        if (schemaId == -1)
            version["schema-id"] = schemaId = _lastAddedSchemaId ?? throw CatalogException.BadRequest("add-view-version: schema-id -1 (the last added) but no schema was added.");
        if (!Array("schemas").Any(s => (int)s!["schema-id"]! == schemaId))
            throw CatalogException.BadRequest($"add-view-version: no schema with id {schemaId}.");
        var versions = Array("versions");
        var id = versions.Count == 0 ? 1 : versions.Max(v => (int)v!["version-id"]!) + 1;
        version["version-id"] = id;
        version["timestamp-ms"] ??= nowMs;
        version["summary"] ??= new JsonObject();
        versions.Add(version);
        _lastAddedVersionId = id;
    }

    private void SetCurrentVersion(int id, long nowMs)
    {
        if (id == -1) id = _lastAddedVersionId ?? throw CatalogException.BadRequest("set-current-view-version: -1 (the last added) but no version was added.");
        if (!Array("versions").Any(v => (int)v!["version-id"]! == id))
            throw CatalogException.BadRequest($"set-current-view-version: no view version with id {id}.");
        _m["current-version-id"] = id;
        Array("version-log").Add(new JsonObject { ["timestamp-ms"] = nowMs, ["version-id"] = id });
    }
}
