using System.Text.Json.Nodes;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>Request bodies as Iceberg clients send them, built from the spec's JSON keys.</summary>
internal static class TableRequests
{
    public static JsonObject Schema(int schemaId = 0) => new()
    {
        ["type"] = "struct",
        ["schema-id"] = schemaId,
        ["fields"] = new JsonArray(
            new JsonObject { ["id"] = 1, ["name"] = "id", ["required"] = true, ["type"] = "long" },
            new JsonObject { ["id"] = 2, ["name"] = "ts", ["required"] = false, ["type"] = "timestamptz" },
            new JsonObject { ["id"] = 3, ["name"] = "name", ["required"] = false, ["type"] = "string" }),
    };

    public static string Create(string name, bool staged = false) => new JsonObject
    {
        ["name"] = name,
        ["schema"] = Schema(),
        ["partition-spec"] = new JsonObject
        {
            ["spec-id"] = 0,
            ["fields"] = new JsonArray(new JsonObject { ["source-id"] = 2, ["field-id"] = 1000, ["name"] = "ts_day", ["transform"] = "day" }),
        },
        ["properties"] = new JsonObject { ["owner"] = "tests" },
        ["stage-create"] = staged,
    }.ToJsonString();

    /// <summary>An append as a client commits it: the snapshot, main moved to it, guarded by main's expected snapshot.
    /// Its manifest list is a location in <paramref name="warehouse"/> (the catalog refuses references outside it) that
    /// nothing reads.</summary>
    public static string Append(string warehouse, long snapshotId, long? parentId, long sequenceNumber, string dataFile) => Commit(
        [AssertRef("main", parentId)],
        [
            new JsonObject
            {
                ["action"] = "add-snapshot",
                ["snapshot"] = new JsonObject
                {
                    ["snapshot-id"] = snapshotId,
                    ["parent-snapshot-id"] = parentId,
                    ["sequence-number"] = sequenceNumber,
                    ["timestamp-ms"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    ["manifest-list"] = $"{warehouse}/lists/snap-{snapshotId}.avro",
                    ["summary"] = new JsonObject { ["operation"] = "append", ["added-data-files"] = "1", ["test.data-file"] = dataFile },
                    ["schema-id"] = 0,
                },
            },
            SetMain(snapshotId),
        ]);

    public static JsonObject AssertRef(string name, long? snapshotId) => new() { ["type"] = "assert-ref-snapshot-id", ["ref"] = name, ["snapshot-id"] = snapshotId };

    public static JsonObject SetMain(long snapshotId) => new() { ["action"] = "set-snapshot-ref", ["ref-name"] = "main", ["type"] = "branch", ["snapshot-id"] = snapshotId };

    public static string Commit(JsonNode[] requirements, JsonNode[] updates, JsonObject? identifier = null)
    {
        var o = new JsonObject { ["requirements"] = new JsonArray(requirements), ["updates"] = new JsonArray(updates) };
        if (identifier is not null) o["identifier"] = identifier;
        return o.ToJsonString();
    }

    public static JsonObject Identifier(string ns, string name) => new() { ["namespace"] = new JsonArray(ns), ["name"] = name };
}
