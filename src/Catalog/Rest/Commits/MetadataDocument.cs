using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Schemas;
using DataPlane.Catalog.Sorting;

namespace DataPlane.Catalog.Rest.Commits;

/// <summary>
/// A table's metadata (table-spec Appendix C) as a JSON document that the REST commit actions edit: requirements are
/// checked and updates applied on the JSON itself, so keys this service does not model (statistics, encryption keys,
/// engine extensions) pass through untouched. Schemas, partition specs and sort orders are parsed with the table-format
/// core's types, so what a client sends is validated the same way the rest of DataPlane reads it.
/// </summary>
internal sealed class MetadataDocument
{
    private readonly JsonObject _m;
    private int? _lastAddedSchemaId, _lastAddedSpecId, _lastAddedOrderId;

    private MetadataDocument(JsonObject metadata) => _m = metadata;

    public static MetadataDocument Parse(ReadOnlySpan<byte> json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("Table metadata must be a JSON object."));

    /// <summary>The metadata of a new table from a <c>CreateTableRequest</c>'s parts (format version 2).</summary>
    public static MetadataDocument Create(string location, JsonElement schema, JsonElement? spec, JsonElement? order, IReadOnlyDictionary<string, string> properties, long nowMs)
    {
        var m = new JsonObject
        {
            ["format-version"] = 2,
            ["table-uuid"] = Guid.NewGuid().ToString(),
            ["location"] = location,
            ["last-sequence-number"] = 0L,
            ["last-updated-ms"] = nowMs,
            ["last-column-id"] = 0,
            ["current-schema-id"] = 0,
            ["schemas"] = new JsonArray(),
            ["default-spec-id"] = 0,
            ["partition-specs"] = new JsonArray(),
            ["last-partition-id"] = PartitionSpec.FirstFieldId - 1,
            ["default-sort-order-id"] = 0,
            ["sort-orders"] = new JsonArray(),
            ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["current-snapshot-id"] = -1L,
            ["refs"] = new JsonObject(),
            ["snapshots"] = new JsonArray(),
            ["statistics"] = new JsonArray(),
            ["partition-statistics"] = new JsonArray(),
            ["snapshot-log"] = new JsonArray(),
            ["metadata-log"] = new JsonArray(),
        };
        var d = new MetadataDocument(m);
        d.AddSchema(schema, 0);
        d.SetCurrentSchema(-1);
        d.AddSpec(spec, 0);
        d.SetDefaultSpec(-1);
        d.AddSortOrder(order, order is null ? 0 : null);
        d.SetDefaultSortOrder(-1);
        return d;
    }

    /// <summary>The starting point of a create committed through <c>assert-create</c>: no schema yet; the commit's updates add one.</summary>
    public static MetadataDocument Empty(string location, long nowMs)
    {
        var m = new JsonObject
        {
            ["format-version"] = 2, ["table-uuid"] = Guid.NewGuid().ToString(), ["location"] = location,
            ["last-sequence-number"] = 0L, ["last-updated-ms"] = nowMs, ["last-column-id"] = 0, ["current-schema-id"] = -1,
            ["schemas"] = new JsonArray(), ["default-spec-id"] = 0, ["partition-specs"] = new JsonArray(),
            ["last-partition-id"] = PartitionSpec.FirstFieldId - 1, ["default-sort-order-id"] = 0, ["sort-orders"] = new JsonArray(),
            ["properties"] = new JsonObject(), ["current-snapshot-id"] = -1L, ["refs"] = new JsonObject(), ["snapshots"] = new JsonArray(),
            ["statistics"] = new JsonArray(), ["partition-statistics"] = new JsonArray(), ["snapshot-log"] = new JsonArray(), ["metadata-log"] = new JsonArray(),
        };
        return new MetadataDocument(m);
    }

    /// <summary>A created table needs a current schema, and a default spec and sort order that exist.</summary>
    public void CompleteCreate()
    {
        if (Array("schemas").Count == 0 || (int)_m["current-schema-id"]! < 0)
            throw RestException.BadRequest("A table create must add a schema and make it current (add-schema, set-current-schema).");
        if (Array("partition-specs").Count == 0) AddSpec(null, 0);
        if (Array("sort-orders").Count == 0) AddSortOrder(null, 0);
    }

    public string TableUuid => (string)_m["table-uuid"]!;
    public string Location => (string)_m["location"]!;
    public int FormatVersion => (int)_m["format-version"]!;

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(_m);

    /// <summary>The metadata with only the snapshots that some branch or tag points at (<c>snapshots=refs</c>).</summary>
    public byte[] ToUtf8WithRefSnapshotsOnly()
    {
        var copy = (JsonObject)_m.DeepClone();
        var referenced = Refs.Select(r => (long)r.Value!["snapshot-id"]!).ToHashSet();
        var kept = new JsonArray();
        foreach (var s in Snapshots)
            if (referenced.Contains((long)s!["snapshot-id"]!)) kept.Add(s.DeepClone());
        copy["snapshots"] = kept;
        return JsonSerializer.SerializeToUtf8Bytes(copy);
    }

    private JsonArray Snapshots => Array("snapshots");
    private JsonObject Refs => (JsonObject)(_m["refs"] ??= new JsonObject());

    private JsonArray Array(string key) => _m[key] as JsonArray ?? (JsonArray)(_m[key] = new JsonArray());

    // ---- requirements ----

    /// <summary>Throws 409 CommitFailedException when the requirement does not hold on this metadata.</summary>
    public void Check(JsonElement requirement)
    {
        const string type = "TableRequirement";
        var kind = RequestJson.RequiredString(requirement, type, "type");
        switch (kind)
        {
            case "assert-create":
                throw RestException.CommitFailed("Requirement failed: table already exists");
            case "assert-table-uuid":
                Expect(RequestJson.RequiredString(requirement, type, "uuid"), TableUuid, "table uuid");
                break;
            case "assert-ref-snapshot-id":
            {
                var name = RequestJson.RequiredString(requirement, type, "ref");
                long? expected = requirement.TryGetProperty("snapshot-id", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt64() : null;
                long? actual = Refs[name] is JsonObject r ? (long)r["snapshot-id"]! : null;
                if (expected != actual)
                    throw RestException.CommitFailed(expected is null
                        ? $"Requirement failed: branch or tag {name} was created concurrently (now at snapshot {actual})"
                        : actual is null
                            ? $"Requirement failed: branch or tag {name} is missing, expected {expected}"
                            : $"Requirement failed: branch {name} has changed: expected id {expected} != {actual}");
                break;
            }
            case "assert-last-assigned-field-id":
                Expect(Int(requirement, "last-assigned-field-id"), (int)_m["last-column-id"]!, "last assigned field id");
                break;
            case "assert-current-schema-id":
                Expect(Int(requirement, "current-schema-id"), (int)_m["current-schema-id"]!, "current schema id");
                break;
            case "assert-last-assigned-partition-id":
                Expect(Int(requirement, "last-assigned-partition-id"), (int)_m["last-partition-id"]!, "last assigned partition id");
                break;
            case "assert-default-spec-id":
                Expect(Int(requirement, "default-spec-id"), (int)_m["default-spec-id"]!, "default partition spec id");
                break;
            case "assert-default-sort-order-id":
                Expect(Int(requirement, "default-sort-order-id"), (int)_m["default-sort-order-id"]!, "default sort order id");
                break;
            default:
                throw RestException.BadRequest($"Unknown requirement type '{kind}'; valid: assert-create, assert-table-uuid, assert-ref-snapshot-id, " +
                    "assert-last-assigned-field-id, assert-current-schema-id, assert-last-assigned-partition-id, assert-default-spec-id, assert-default-sort-order-id.");
        }
    }

    private static void Expect<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw RestException.CommitFailed($"Requirement failed: {what} has changed: expected {expected} != {actual}");
    }

    // ---- updates ----

    /// <summary>Applies one update action; an invalid one is a 400 naming the action and the value.</summary>
    public void Apply(JsonElement update, long nowMs)
    {
        const string type = "TableUpdate";
        var action = RequestJson.RequiredString(update, type, "action");
        switch (action)
        {
            case "assign-uuid":
            {
                var uuid = RequestJson.RequiredString(update, type, "uuid");
                if (!Guid.TryParse(uuid, out _)) throw RestException.BadRequest($"assign-uuid: '{uuid}' is not a UUID.");
                if (_m["table-uuid"] is { } existing && (string)existing! != uuid && Snapshots.Count > 0)
                    throw RestException.BadRequest($"assign-uuid: cannot change the UUID of table {existing} to {uuid}.");
                _m["table-uuid"] = uuid;
                break;
            }
            case "upgrade-format-version":
            {
                var v = Int(update, "format-version");
                if (v < FormatVersion) throw RestException.BadRequest($"upgrade-format-version: cannot downgrade from v{FormatVersion} to v{v}.");
                if (v > 3) throw RestException.BadRequest($"upgrade-format-version: format version {v} is not supported; valid: 1, 2, 3.");
                _m["format-version"] = v;
                break;
            }
            case "add-schema": AddSchema(RequestJson.Required(update, type, "schema"), null); break;
            case "set-current-schema": SetCurrentSchema(Int(update, "schema-id")); break;
            case "add-spec": AddSpec(RequestJson.Required(update, type, "spec"), null); break;
            case "set-default-spec": SetDefaultSpec(Int(update, "spec-id")); break;
            case "add-sort-order": AddSortOrder(RequestJson.Required(update, type, "sort-order"), null); break;
            case "set-default-sort-order": SetDefaultSortOrder(Int(update, "sort-order-id")); break;
            case "add-snapshot": AddSnapshot(RequestJson.Required(update, type, "snapshot")); break;
            case "set-snapshot-ref": SetRef(update, nowMs); break;
            case "remove-snapshots": RemoveSnapshots(LongList(update, "snapshot-ids")); break;
            case "remove-snapshot-ref": RemoveRef(RequestJson.RequiredString(update, type, "ref-name")); break;
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
            case "set-statistics":
            {
                var stats = RequestJson.Required(update, type, "statistics");
                ReplaceBySnapshot("statistics", Long(stats, "snapshot-id"), JsonNode.Parse(stats.GetRawText()));
                break;
            }
            case "remove-statistics": ReplaceBySnapshot("statistics", Long(update, "snapshot-id"), null); break;
            case "set-partition-statistics":
            {
                var stats = RequestJson.Required(update, type, "partition-statistics");
                ReplaceBySnapshot("partition-statistics", Long(stats, "snapshot-id"), JsonNode.Parse(stats.GetRawText()));
                break;
            }
            case "remove-partition-statistics": ReplaceBySnapshot("partition-statistics", Long(update, "snapshot-id"), null); break;
            case "remove-partition-specs":
            {
                var ids = IntList(update, "spec-ids");
                if (ids.Contains((int)_m["default-spec-id"]!)) throw RestException.BadRequest("remove-partition-specs: cannot remove the default partition spec.");
                RemoveWhere("partition-specs", s => ids.Contains((int)s["spec-id"]!));
                break;
            }
            case "remove-schemas":
            {
                var ids = IntList(update, "schema-ids");
                if (ids.Contains((int)_m["current-schema-id"]!)) throw RestException.BadRequest("remove-schemas: cannot remove the current schema.");
                RemoveWhere("schemas", s => ids.Contains((int)s["schema-id"]!));
                break;
            }
            case "add-encryption-key":
                Array("encryption-keys").Add(JsonNode.Parse(RequestJson.Required(update, type, "encryption-key").GetRawText()));
                break;
            case "remove-encryption-key":
            {
                var id = RequestJson.RequiredString(update, type, "key-id");
                RemoveWhere("encryption-keys", k => (string?)k["key-id"] == id);
                break;
            }
            default:
                throw RestException.BadRequest($"Unknown update action '{action}'.");
        }
        _m["last-updated-ms"] = Math.Max(nowMs, (long)_m["last-updated-ms"]!);
    }

    /// <summary>Records the file this metadata replaces in <c>metadata-log</c>, as every committed version must.</summary>
    public void LogPreviousFile(string previousLocation, long previousUpdatedMs) =>
        Array("metadata-log").Add(new JsonObject { ["metadata-file"] = previousLocation, ["timestamp-ms"] = previousUpdatedMs });

    public long LastUpdatedMs => (long)_m["last-updated-ms"]!;

    private void AddSchema(JsonElement json, int? forcedId)
    {
        Schema schema;
        try { schema = SchemaJson.Read(json); }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw RestException.BadRequest($"add-schema: invalid schema: {e.Message}");
        }
        var schemas = Array("schemas");
        foreach (var existing in schemas)
        {
            var s = SchemaJson.Read(JsonDocument.Parse(existing!.ToJsonString()).RootElement);
            if (s.SameSchema(schema)) { _lastAddedSchemaId = s.SchemaId; return; }
        }
        var id = forcedId ?? (schemas.Count == 0 ? 0 : schemas.Max(s => (int)s!["schema-id"]!) + 1);
        schemas.Add(JsonNode.Parse(schema.WithSchemaId(id).ToJson()));
        _m["last-column-id"] = Math.Max((int)_m["last-column-id"]!, schema.HighestFieldId);
        _lastAddedSchemaId = id;
    }

    private void SetCurrentSchema(int id)
    {
        if (id == -1) id = _lastAddedSchemaId ?? throw RestException.BadRequest("set-current-schema: schema-id -1 (the last added) but no schema was added in this commit.");
        if (!Array("schemas").Any(s => (int)s!["schema-id"]! == id))
            throw RestException.BadRequest($"set-current-schema: no schema with id {id}.");
        _m["current-schema-id"] = id;
    }

    private void AddSpec(JsonElement? json, int? forcedId)
    {
        PartitionSpec spec;
        try { spec = json is { } j ? PartitionSpecJson.Read(j) : PartitionSpec.Unpartitioned; }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw RestException.BadRequest($"add-spec: invalid partition spec: {e.Message}");
        }
        var specs = Array("partition-specs");
        foreach (var existing in specs)
        {
            var s = PartitionSpecJson.Read(JsonDocument.Parse(existing!.ToJsonString()).RootElement);
            if (s.CompatibleWith(spec)) { _lastAddedSpecId = s.SpecId; return; }
        }
        var id = forcedId ?? (specs.Count == 0 ? 0 : specs.Max(s => (int)s!["spec-id"]!) + 1);
        specs.Add(JsonNode.Parse(spec.WithSpecId(id).ToJson()));
        _m["last-partition-id"] = Math.Max((int)_m["last-partition-id"]!, spec.LastAssignedFieldId);
        _lastAddedSpecId = id;
    }

    private void SetDefaultSpec(int id)
    {
        if (id == -1) id = _lastAddedSpecId ?? throw RestException.BadRequest("set-default-spec: spec-id -1 (the last added) but no spec was added in this commit.");
        if (!Array("partition-specs").Any(s => (int)s!["spec-id"]! == id))
            throw RestException.BadRequest($"set-default-spec: no partition spec with id {id}.");
        _m["default-spec-id"] = id;
    }

    private void AddSortOrder(JsonElement? json, int? forcedId)
    {
        SortOrder order;
        try { order = json is { } j ? SortOrderJson.Read(j) : SortOrder.Unsorted; }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw RestException.BadRequest($"add-sort-order: invalid sort order: {e.Message}");
        }
        var orders = Array("sort-orders");
        foreach (var existing in orders)
        {
            var o = SortOrderJson.Read(JsonDocument.Parse(existing!.ToJsonString()).RootElement);
            if (o.Fields.SequenceEqual(order.Fields)) { _lastAddedOrderId = o.OrderId; return; }
        }
        // Order id 0 is reserved for "unsorted"; a sorted order gets the next free id from 1.
        var id = forcedId ?? (order.IsUnsorted ? 0 : Math.Max(1, orders.Count == 0 ? 1 : orders.Max(o => (int)o!["order-id"]!) + 1));
        orders.Add(JsonNode.Parse(order.WithOrderId(id).ToJson()));
        _lastAddedOrderId = id;
    }

    private void SetDefaultSortOrder(int id)
    {
        if (id == -1) id = _lastAddedOrderId ?? throw RestException.BadRequest("set-default-sort-order: sort-order-id -1 (the last added) but no order was added in this commit.");
        if (!Array("sort-orders").Any(o => (int)o!["order-id"]! == id))
            throw RestException.BadRequest($"set-default-sort-order: no sort order with id {id}.");
        _m["default-sort-order-id"] = id;
    }

    private void AddSnapshot(JsonElement snapshot)
    {
        var id = Long(snapshot, "snapshot-id");
        if (Snapshots.Any(s => (long)s!["snapshot-id"]! == id))
            throw RestException.BadRequest($"add-snapshot: snapshot {id} already exists.");
        RequestJson.RequiredString(snapshot, "Snapshot", "manifest-list");
        var last = (long)_m["last-sequence-number"]!;
        var sequence = snapshot.TryGetProperty("sequence-number", out var seq) && seq.ValueKind == JsonValueKind.Number ? seq.GetInt64() : 0;
        if (FormatVersion >= 2)
        {
            var hasParent = snapshot.TryGetProperty("parent-snapshot-id", out var p) && p.ValueKind == JsonValueKind.Number;
            if (sequence <= last && hasParent)
                throw RestException.BadRequest($"add-snapshot: sequence number {sequence} of snapshot {id} is not above the table's last sequence number {last}.");
            _m["last-sequence-number"] = Math.Max(last, sequence);
        }
        // Clients send absent optional keys as null (a first snapshot's parent); the spec's metadata omits them.
        var node = JsonNode.Parse(snapshot.GetRawText())!.AsObject();
        foreach (var (key, value) in node.ToList())
            if (value is null) node.Remove(key);
        Snapshots.Add(node);
        _m["last-updated-ms"] = Math.Max((long)_m["last-updated-ms"]!, Long(snapshot, "timestamp-ms"));
    }

    private void SetRef(JsonElement update, long nowMs)
    {
        const string type = "SetSnapshotRefUpdate";
        var name = RequestJson.RequiredString(update, type, "ref-name");
        var refType = RequestJson.RequiredString(update, type, "type");
        if (refType is not ("branch" or "tag"))
            throw RestException.BadRequest($"set-snapshot-ref: type '{refType}' is invalid; valid: branch, tag.");
        var id = Long(update, "snapshot-id");
        var snapshot = Snapshots.FirstOrDefault(s => (long)s!["snapshot-id"]! == id)
                       ?? throw RestException.BadRequest($"set-snapshot-ref: no snapshot with id {id} for {refType} {name}.");
        var r = new JsonObject { ["snapshot-id"] = id, ["type"] = refType };
        foreach (var key in new[] { "max-ref-age-ms", "max-snapshot-age-ms", "min-snapshots-to-keep" })
            if (update.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number) r[key] = v.GetInt64();
        Refs[name] = r;
        if (name == "main")
        {
            _m["current-snapshot-id"] = id;
            var ts = (long?)snapshot["timestamp-ms"] ?? nowMs;
            Array("snapshot-log").Add(new JsonObject { ["timestamp-ms"] = ts, ["snapshot-id"] = id });
        }
    }

    private void RemoveRef(string name)
    {
        Refs.Remove(name);
        if (name == "main") _m["current-snapshot-id"] = -1L;
    }

    private void RemoveSnapshots(List<long> ids)
    {
        var set = ids.ToHashSet();
        RemoveWhere("snapshots", s => set.Contains((long)s["snapshot-id"]!));
        foreach (var (name, r) in Refs.ToList())
            if (set.Contains((long)r!["snapshot-id"]!)) RemoveRef(name);
        RemoveWhere("statistics", s => set.Contains((long)s["snapshot-id"]!));
        RemoveWhere("partition-statistics", s => set.Contains((long)s["snapshot-id"]!));
    }

    private void ReplaceBySnapshot(string key, long snapshotId, JsonNode? replacement)
    {
        RemoveWhere(key, s => (long?)s["snapshot-id"] == snapshotId);
        if (replacement is not null) Array(key).Add(replacement);
    }

    private void RemoveWhere(string key, Func<JsonNode, bool> predicate)
    {
        var array = Array(key);
        for (var i = array.Count - 1; i >= 0; i--)
            if (predicate(array[i]!)) array.RemoveAt(i);
    }

    private static int Int(JsonElement o, string field)
    {
        var v = RequestJson.Required(o, "TableUpdate", field);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw RequestJson.Mistyped("TableUpdate", field, "an int", v);
    }

    private static long Long(JsonElement o, string field)
    {
        var v = RequestJson.Required(o, "TableUpdate", field);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l : throw RequestJson.Mistyped("TableUpdate", field, "a long", v);
    }

    private static List<long> LongList(JsonElement o, string field) =>
        RequestJson.Required(o, "TableUpdate", field).EnumerateArray().Select(x => x.TryGetInt64(out var l) ? l : throw RequestJson.Mistyped("TableUpdate", field, "an array of longs", x)).ToList();

    private static List<int> IntList(JsonElement o, string field) =>
        RequestJson.Required(o, "TableUpdate", field).EnumerateArray().Select(x => x.TryGetInt32(out var i) ? i : throw RequestJson.Mistyped("TableUpdate", field, "an array of ints", x)).ToList();
}
