using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DataPlane.Tests.Fuzz;

/// <summary>
/// Requests to every HTTP surface of <c>dataplane serve</c> (ingestion, the streams/sinks/pipelines API, the
/// databases API and queries, the Iceberg REST catalog, health and metrics), each a valid seed request with one
/// or more things made wrong: a JSON value replaced by a hostile one, a key dropped or doubled, a path segment
/// swapped for a path trick, the whole body replaced, a bad query string or header, or another method.
/// </summary>
internal sealed class FuzzRequestGenerator(Random random, FuzzTargets targets)
{
    private sealed record Seed(string Method, string[] Path, Func<JsonNode?>? Json, string? Query = null, string? Form = null, string? Ndjson = null, int[]? MutablePath = null);

    private int _counter;

    public FuzzRequest Next()
    {
        var seeds = Seeds();
        var seed = seeds[random.Next(seeds.Count)];
        var method = seed.Method;
        var path = (string[])seed.Path.Clone();
        var query = seed.Query;
        var headers = new List<KeyValuePair<string, string>>();
        string contentType = seed.Form is not null ? "application/x-www-form-urlencoded" : "application/json";
        byte[]? body = null;
        var node = seed.Json?.Invoke();
        string mutation;

        int kind = random.Next(100);
        if (kind < 45 && node is not null)
        {
            int count = random.Next(1, 4);
            var raw = new Dictionary<string, byte[]>();
            var changed = new List<string>();
            for (int i = 0; i < count; i++)
                changed.Add(ReplaceValue(node, raw));
            body = Render(node, raw);
            mutation = "value " + string.Join(", ", changed);
        }
        else if (kind < 55 && node is not null)
        {
            (mutation, var duplicate) = ReshapeObject(node);
            body = Render(node, [], duplicate);
        }
        else if (kind < 70)
        {
            int[] mutable = seed.MutablePath ?? Enumerable.Range(0, path.Length).ToArray();
            int at = mutable.Length == 0 ? random.Next(path.Length) : mutable[random.Next(mutable.Length)];
            path[at] = HostileValues.Segment(random);
            body = node is not null ? Render(node, []) : SeedBody(seed);
            mutation = $"path segment {at}";
        }
        else if (kind < 82)
        {
            body = HostileValues.Body(random);
            mutation = "body";
        }
        else if (kind < 88)
        {
            query = Query();
            body = node is not null ? Render(node, []) : SeedBody(seed);
            mutation = "query";
        }
        else if (kind < 95)
        {
            var (name, value) = Header();
            headers.Add(new(name, value));
            if (name == "Content-Type") contentType = value;
            body = node is not null ? Render(node, []) : SeedBody(seed);
            mutation = "header " + name;
        }
        else
        {
            // No DELETE: on the fixtures' paths that is a valid request, and the run would lose its targets.
            string[] methods = ["GET", "POST", "PUT", "PATCH", "HEAD", "OPTIONS"];
            method = methods[random.Next(methods.Length)];
            body = node is not null ? Render(node, []) : SeedBody(seed);
            mutation = "method";
        }
        if (body is null && node is null && seed.Form is null && seed.Ndjson is null && method is "GET" or "HEAD" or "DELETE")
            contentType = "";
        var pathAndQuery = "/" + string.Join('/', path) + (query is null ? "" : "?" + query);
        return new FuzzRequest(method, pathAndQuery, body, contentType.Length == 0 ? null : contentType, headers, mutation);
    }

    private static byte[]? SeedBody(Seed seed) =>
        seed.Form is not null ? Encoding.UTF8.GetBytes(seed.Form) : seed.Ndjson is not null ? Encoding.UTF8.GetBytes(seed.Ndjson) : null;

    private string Fresh(string prefix) => prefix + (++_counter).ToString(CultureInfo.InvariantCulture);

    private List<Seed> Seeds()
    {
        var t = targets;
        string stream = Fresh("s"), sink = Fresh("k"), pipeline = Fresh("p"), db = Fresh("d"), ns = Fresh("n"), table = Fresh("t"), view = Fresh("v");
        return
        [
            // Health and metrics.
            new("GET", ["healthz"], null),
            new("GET", ["metrics"], null),

            // Ingestion.
            new("POST", ["streams", t.Stream], () => JsonNode.Parse("""[{"id": 1, "ts": "2026-11-25T10:00:00Z", "user": "ada"}, {"id": 2, "ts": "2026-11-24T09:00:00Z", "user": "bob"}]"""), MutablePath: [1]),
            new("POST", ["streams", t.Stream], () => JsonNode.Parse("""{"id": 3, "ts": "2026-11-25T10:00:00.123456+02:00", "user": null}"""), MutablePath: [1]),
            new("POST", ["streams", t.Stream], null, Ndjson: "{\"id\": 4, \"user\": \"eve\"}\n{\"id\": 5}\n", MutablePath: [1]),
            new("POST", ["streams", t.Stream], () => JsonNode.Parse("""[{"id": 6, "ts": 1764064800000000, "user": "x"}]"""), MutablePath: [1]),

            // Streams, sinks and pipelines.
            new("POST", ["api", "v1", "streams"], () => JsonNode.Parse($$$"""{"name": "{{{stream}}}", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "ts", "type": "timestamptz"}, {"name": "tags", "type": {"type": "list", "element": "string"}}, {"name": "price", "type": "decimal(10,2)"}]}}"""), MutablePath: []),
            new("POST", ["api", "v1", "streams"], () => JsonNode.Parse($$$"""{"name": "{{{stream}}}", "schema": {"fields": [{"name": "id", "type": "long"}]}, "source": {"type": "kafka", "bootstrap_servers": "127.0.0.1:1", "topic": "t", "format": "json", "config": {"api.version.request": "false"} } }"""), MutablePath: []),
            new("GET", ["api", "v1", "streams"], null, MutablePath: []),
            new("GET", ["api", "v1", "streams", t.Stream], null, MutablePath: [3]),
            new("DELETE", ["api", "v1", "streams", Fresh("gone")], null, MutablePath: [3]),
            new("POST", ["api", "v1", "sinks"], () => JsonNode.Parse($$$"""{"name": "{{{sink}}}", "type": "iceberg", "namespace": "{{{ns}}}", "table": "{{{table}}}", "partition": ["day(ts)", "bucket(4, id)"], "rolling": {"max_file_bytes": 1048576, "max_rows": 1000, "interval_seconds": 3600}}"""), MutablePath: []),
            new("POST", ["api", "v1", "sinks"], () => JsonNode.Parse($$$"""{"name": "{{{sink}}}", "type": "files", "format": "ndjson", "path": "raw/{{{sink}}}"}"""), MutablePath: []),
            new("GET", ["api", "v1", "sinks"], null, MutablePath: []),
            new("GET", ["api", "v1", "sinks", t.Sink], null, MutablePath: [3]),
            new("DELETE", ["api", "v1", "sinks", Fresh("gone")], null, MutablePath: [3]),
            new("POST", ["api", "v1", "pipelines"], () => JsonNode.Parse($$$"""{"name": "{{{pipeline}}}", "sql": "INSERT INTO {{{t.IdleSink}}} SELECT id, ts, user FROM {{{t.Stream}}} WHERE id > 10 AND user = 'x'"}"""), MutablePath: []),
            new("GET", ["api", "v1", "pipelines"], null, MutablePath: []),
            new("GET", ["api", "v1", "pipelines", t.Pipeline], null, MutablePath: [3]),
            new("POST", ["api", "v1", "pipelines", t.Pipeline, "flush"], null, MutablePath: [3]),
            new("DELETE", ["api", "v1", "pipelines", Fresh("gone")], null, MutablePath: [3]),

            // Databases.
            new("POST", ["api", "v1", "databases"], () => JsonNode.Parse($$$"""{"name": "{{{db}}}", "replicas": 1}"""), MutablePath: []),
            new("GET", ["api", "v1", "databases"], null, MutablePath: []),
            new("GET", ["api", "v1", "databases", t.Database], null, MutablePath: [3]),
            new("DELETE", ["api", "v1", "databases", Fresh("gone")], null, MutablePath: [3]),
            new("POST", ["api", "v1", "databases", Fresh("gone"), "tokens"], () => JsonNode.Parse("""{"access": "read-only"}"""), MutablePath: [3]),
            new("POST", ["db", t.Database, "query"], () => JsonNode.Parse("""{"sql": "INSERT INTO users(name) VALUES (?)", "params": ["ada"]}"""), MutablePath: [1]),
            new("POST", ["db", t.Database, "query"], () => JsonNode.Parse("""{"sql": "SELECT * FROM users WHERE id = :id", "params": {"id": 1}}"""), MutablePath: [1]),
            new("POST", ["db", t.Database, "query"], () => JsonNode.Parse("""{"batch": [{"sql": "INSERT INTO users(name) VALUES (?)", "params": ["a"]}, {"sql": "UPDATE users SET name = ? WHERE id = ?", "params": ["b", 1]}, {"sql": "SELECT count(*) FROM users"}]}"""), MutablePath: [1]),
            new("POST", ["db", t.Database, "query"], () => JsonNode.Parse("""{"sql": "INSERT INTO blobs(data) VALUES (?)", "params": [{"base64": "AAEC"}]}"""), MutablePath: [1]),
            new("POST", ["db", t.Database, "query"], () => JsonNode.Parse("""{"sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT sum(x) FROM c"}"""), MutablePath: [1]),
            new("GET", ["db", t.Database, "replicas"], null, MutablePath: [1]),
            new("GET", ["db", t.Database, "access"], null, MutablePath: [1]),
            new("GET", ["db", t.Database, "log"], null, Query: "after=0&wait_ms=0", MutablePath: [1]),
            new("GET", ["db", t.Database, "snapshot"], null, MutablePath: [1]),

            // The Iceberg REST catalog.
            new("GET", ["iceberg", "v1", "config"], null, Query: "warehouse=main", MutablePath: []),
            new("POST", ["iceberg", "v1", "oauth", "tokens"], null, Form: "grant_type=client_credentials&client_id=spark&client_secret=nope&scope=catalog", MutablePath: []),
            new("GET", ["iceberg", "v1", "namespaces"], null, Query: "pageSize=2", MutablePath: []),
            new("POST", ["iceberg", "v1", "namespaces"], () => JsonNode.Parse($$$"""{"namespace": ["{{{ns}}}"], "properties": {"owner": "fuzz"}}"""), MutablePath: []),
            new("POST", ["iceberg", "v1", "namespaces"], () => JsonNode.Parse($$$"""{"namespace": ["{{{t.Namespace}}}", "{{{ns}}}"]}"""), MutablePath: []),
            new("GET", ["iceberg", "v1", "namespaces", t.Namespace], null, MutablePath: [3]),
            new("HEAD", ["iceberg", "v1", "namespaces", t.Namespace], null, MutablePath: [3]),
            new("DELETE", ["iceberg", "v1", "namespaces", Fresh("gone")], null, MutablePath: [3]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "properties"], () => JsonNode.Parse("""{"removals": ["nope"], "updates": {"owner": "fuzz"}}"""), MutablePath: [3]),
            new("GET", ["iceberg", "v1", "namespaces", t.Namespace, "tables"], null, MutablePath: [3]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "tables"], () => JsonNode.Parse($$$"""
                {"name": "{{{table}}}", "schema": {"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "id", "required": true, "type": "long"}, {"id": 2, "name": "ts", "required": false, "type": "timestamptz"}, {"id": 3, "name": "tags", "required": false, "type": {"type": "list", "element-id": 4, "element": "string", "element-required": false}}]},
                 "partition-spec": {"spec-id": 0, "fields": [{"source-id": 2, "field-id": 1000, "name": "ts_day", "transform": "day"}]},
                 "write-order": {"order-id": 1, "fields": [{"source-id": 1, "transform": "identity", "direction": "asc", "null-order": "nulls-first"}]},
                 "properties": {"format-version": "2"}}
                """), MutablePath: [3]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "tables"], () => JsonNode.Parse($$$"""{"name": "{{{table}}}", "location": "{{{t.TableLocation}}}/inner", "schema": {"type": "struct", "fields": [{"id": 1, "name": "id", "required": true, "type": "long"}]}}"""), MutablePath: [3]),
            new("GET", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table], null, Query: "snapshots=all", MutablePath: [3, 5]),
            new("HEAD", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table], null, MutablePath: [3, 5]),
            new("GET", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table, "credentials"], null, MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table], () => JsonNode.Parse($$$"""
                {"requirements": [{"type": "assert-table-uuid", "uuid": "{{{t.TableUuid}}}"}],
                 "updates": [{"action": "set-properties", "updates": {"fuzz": "1"}}, {"action": "remove-properties", "removals": ["nope"]}]}
                """), MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table], () => JsonNode.Parse($$$"""
                {"requirements": [{"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": {{{t.SnapshotId}}}}],
                 "updates": [{"action": "add-snapshot", "snapshot": {"snapshot-id": {{{random.NextInt64(1, long.MaxValue)}}}, "parent-snapshot-id": {{{t.SnapshotId}}}, "sequence-number": 99, "timestamp-ms": 1764064800000, "manifest-list": "{{{t.ManifestList}}}", "summary": {"operation": "append"}, "schema-id": 0}},
                             {"action": "set-snapshot-ref", "ref-name": "main", "type": "branch", "snapshot-id": 77}]}
                """), MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table], () => JsonNode.Parse($$$"""
                {"requirements": [], "updates": [{"action": "set-statistics", "snapshot-id": {{{t.SnapshotId}}}, "statistics": {"snapshot-id": {{{t.SnapshotId}}}, "statistics-path": "{{{t.TableLocation}}}/metadata/stats.puffin", "file-size-in-bytes": 10, "file-footer-size-in-bytes": 5, "blob-metadata": []}},
                                              {"action": "set-location", "location": "{{{t.TableLocation}}}"}, {"action": "add-schema", "schema": {"type": "struct", "schema-id": 5, "fields": [{"id": 1, "name": "id", "required": true, "type": "long"}, {"id": 9, "name": "extra", "required": false, "type": "decimal(38, 2)"}]}, "last-column-id": 9}]}
                """), MutablePath: [3, 5]),
            new("DELETE", ["iceberg", "v1", "namespaces", t.Namespace, "tables", Fresh("gone")], null, Query: "purgeRequested=true", MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "register"], () => JsonNode.Parse($$$"""{"name": "{{{table}}}", "metadata-location": "{{{t.MetadataLocation}}}"}"""), MutablePath: [3]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "tables", t.Table, "metrics"], () => JsonNode.Parse($$$"""
                {"report-type": "scan-report", "table-name": "{{{t.Namespace}}}.{{{t.Table}}}", "snapshot-id": {{{t.SnapshotId}}}, "filter": true, "schema-id": 0, "projected-field-ids": [1], "projected-field-names": ["id"], "metrics": {"total-planning-duration": {"count": 1, "time-unit": "nanoseconds", "total-duration": 10} } }
                """), MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "tables", "rename"], () => JsonNode.Parse($$$"""{"source": {"namespace": ["{{{t.Namespace}}}"], "name": "{{{Fresh("gone")}}}"}, "destination": {"namespace": ["{{{t.Namespace}}}"], "name": "{{{table}}}"}}"""), MutablePath: []),
            new("POST", ["iceberg", "v1", "transactions", "commit"], () => JsonNode.Parse($$$"""
                {"table-changes": [{"identifier": {"namespace": ["{{{t.Namespace}}}"], "name": "{{{t.Table}}}"}, "requirements": [{"type": "assert-current-schema-id", "current-schema-id": 0}], "updates": [{"action": "set-properties", "updates": {"txn": "1"}}]}]}
                """), MutablePath: []),
            new("GET", ["iceberg", "v1", "namespaces", t.Namespace, "views"], null, MutablePath: [3]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "views"], () => JsonNode.Parse($$$"""
                {"name": "{{{view}}}", "schema": {"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "id", "required": false, "type": "long"}]},
                 "view-version": {"version-id": 1, "timestamp-ms": 1764064800000, "schema-id": 0, "summary": {"engine": "spark"}, "representations": [{"type": "sql", "sql": "SELECT id FROM t", "dialect": "spark"}], "default-namespace": ["{{{t.Namespace}}}"]},
                 "properties": {}}
                """), MutablePath: [3]),
            new("GET", ["iceberg", "v1", "namespaces", t.Namespace, "views", t.View], null, MutablePath: [3, 5]),
            new("HEAD", ["iceberg", "v1", "namespaces", t.Namespace, "views", t.View], null, MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "namespaces", t.Namespace, "views", t.View], () => JsonNode.Parse("""
                {"requirements": [{"type": "assert-view-uuid", "uuid": "00000000-0000-0000-0000-000000000000"}], "updates": [{"action": "set-properties", "updates": {"a": "b"}}]}
                """), MutablePath: [3, 5]),
            new("DELETE", ["iceberg", "v1", "namespaces", t.Namespace, "views", Fresh("gone")], null, MutablePath: [3, 5]),
            new("POST", ["iceberg", "v1", "views", "rename"], () => JsonNode.Parse($$$"""{"source": {"namespace": ["{{{t.Namespace}}}"], "name": "{{{Fresh("gone")}}}"}, "destination": {"namespace": ["{{{t.Namespace}}}"], "name": "{{{view}}}"}}"""), MutablePath: []),
        ];
    }

    /// <summary>Replaces one value below the root with a placeholder whose raw bytes go in at rendering.</summary>
    private string ReplaceValue(JsonNode root, Dictionary<string, byte[]> raw)
    {
        var nodes = Nodes(root);
        if (nodes.Count == 0)
            return "none";
        var (parent, key, index, path) = nodes[random.Next(nodes.Count)];
        var placeholder = $"\u0001{raw.Count}\u0001";
        raw[placeholder] = HostileValues.Value(random);
        if (parent is JsonObject o) o[key!] = JsonValue.Create(placeholder);
        else ((JsonArray)parent)[index] = JsonValue.Create(placeholder);
        return path;
    }

    /// <summary>Every value below the root, with where it sits.</summary>
    private static List<(JsonNode Parent, string? Key, int Index, string Path)> Nodes(JsonNode root)
    {
        var into = new List<(JsonNode, string?, int, string)>();
        void Walk(JsonNode? node, string path)
        {
            if (node is JsonObject o)
                foreach (var (k, v) in o.ToList())
                {
                    into.Add((o, k, -1, path + "." + k));
                    Walk(v, path + "." + k);
                }
            else if (node is JsonArray a)
                for (int i = 0; i < a.Count; i++)
                {
                    into.Add((a, null, i, $"{path}[{i}]"));
                    Walk(a[i], $"{path}[{i}]");
                }
        }
        Walk(root, "$");
        return into;
    }

    /// <summary>Drops a key, adds an unknown one, or (returned as a text edit) writes a key twice.</summary>
    private (string Mutation, string? DuplicateKey) ReshapeObject(JsonNode root)
    {
        var objects = Nodes(root).Where(n => n.Parent is JsonObject o && o[n.Key!] is JsonObject).Select(n => ((JsonObject)n.Parent[n.Key!]!, n.Path)).ToList();
        if (root is JsonObject r) objects.Add((r, "$"));
        if (objects.Count == 0)
            return ("reshape (no object)", null);
        var (target, at) = objects[random.Next(objects.Count)];
        switch (random.Next(3))
        {
            case 0 when target.Count > 0:
                var drop = target.ElementAt(random.Next(target.Count)).Key;
                target.Remove(drop);
                return ($"drop {at}.{drop}", null);
            case 1:
                target["unknown_" + random.Next(1000)] = JsonValue.Create("x");
                return ($"unknown key in {at}", null);
            default:
                return target.Count == 0 ? ("reshape (empty object)", null) : ($"duplicate {at}.{target.ElementAt(0).Key}", target.ElementAt(0).Key);
        }
    }

    private static byte[] Render(JsonNode root, Dictionary<string, byte[]> raw, string? duplicateKey = null)
    {
        var text = root.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        if (duplicateKey is not null)
        {
            // A second copy of the key with another value: "the last one wins" or a 400, never a 500.
            var marker = "\"" + duplicateKey + "\":";
            int at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) text = text[..at] + marker + "\"dup\"," + text[at..];
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var (placeholder, value) in raw)
            bytes = Splice(bytes, Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(placeholder)), value);
        return bytes;
    }

    private static byte[] Splice(byte[] bytes, byte[] find, byte[] replacement)
    {
        int at = bytes.AsSpan().IndexOf(find);
        if (at < 0) return bytes;
        return [.. bytes.AsSpan(0, at), .. replacement, .. bytes.AsSpan(at + find.Length)];
    }

    private string Query()
    {
        string[] queries =
        [
            "after=abc", "after=-1", "after=99999999999999999999", "wait_ms=-5&after=0", "wait_ms=1e9&after=0", "after=0&wait_ms=99999999999",
            "pageSize=0", "pageSize=-1", "pageSize=1e9", "pageSize=abc", "pageToken=%ff%fe", "pageToken=" + new string('z', 5000),
            "purgeRequested=maybe", "purgeRequested=true", "snapshots=nope", "parent=%1F", "parent=a%00b", "warehouse=../..",
            "replica=%00", "replica=99", "x=" + new string('q', 100_000), "%zz=1", "a=1&a=2&a=3",
        ];
        return queries[random.Next(queries.Length)];
    }

    private (string Name, string Value) Header()
    {
        (string, string)[] headers =
        [
            ("Authorization", "Bearer"), ("Authorization", "Bearer " + new string('t', 10_000)), ("Authorization", "Basic Zm9vOmJhcg=="),
            ("X-DataPlane-Bookmark", "garbage"), ("X-DataPlane-Bookmark", "ffffffffffffffff"), ("X-DataPlane-Bookmark", "-1"), ("X-DataPlane-Bookmark", "first-primary"),
            ("X-DataPlane-Bookmark", "00000000000000000000000000000000000"), ("X-Iceberg-Access-Delegation", "vended-credentials"), ("X-Iceberg-Access-Delegation", "remote-signing,nope"),
            ("Content-Type", "text/plain"), ("Content-Type", "application/json; charset=latin1"), ("Content-Type", "multipart/form-data; boundary=x"),
            ("Content-Type", "application/x-ndjson"), ("Content-Type", "application/vnd.apache.arrow.stream"), ("Content-Encoding", "gzip"), ("Content-Encoding", "br"),
            ("Range", "bytes=5-1"), ("If-None-Match", "*"), ("Accept", "text/html"),
        ];
        return headers[random.Next(headers.Length)];
    }
}
