using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Tests.Readers;

/// <summary>
/// Four tables holding the same rows of every Iceberg type (NULLs and extremes included), written by a real
/// <c>dataplane serve</c>: by a pipeline from a stream, and by <c>dataplane table append</c>, each with the default
/// Parquet profile and with the compact one. Written once and shared by every reader's test.
/// </summary>
public sealed class EveryTypeTables : IAsyncLifetime
{
    public const string Namespace = "readers";

    /// <summary>The table schema (Iceberg JSON, for <c>dataplane table create --schema-file</c>).</summary>
    public const string SchemaJson = """
        {"type": "struct", "schema-id": 0, "fields": [
          {"id": 1, "name": "id", "required": true, "type": "long"},
          {"id": 2, "name": "b", "required": false, "type": "boolean"},
          {"id": 3, "name": "i", "required": false, "type": "int"},
          {"id": 4, "name": "l", "required": false, "type": "long"},
          {"id": 5, "name": "f", "required": false, "type": "float"},
          {"id": 6, "name": "d", "required": false, "type": "double"},
          {"id": 7, "name": "dec9", "required": false, "type": "decimal(9, 2)"},
          {"id": 8, "name": "dec18", "required": false, "type": "decimal(18, 6)"},
          {"id": 9, "name": "dec38", "required": false, "type": "decimal(38, 10)"},
          {"id": 10, "name": "day", "required": false, "type": "date"},
          {"id": 11, "name": "t", "required": false, "type": "time"},
          {"id": 12, "name": "ts", "required": false, "type": "timestamp"},
          {"id": 13, "name": "tstz", "required": false, "type": "timestamptz"},
          {"id": 14, "name": "s", "required": false, "type": "string"},
          {"id": 15, "name": "u", "required": false, "type": "uuid"},
          {"id": 16, "name": "fx", "required": false, "type": "fixed[4]"},
          {"id": 17, "name": "bin", "required": false, "type": "binary"},
          {"id": 18, "name": "st", "required": false, "type": {"type": "struct", "fields": [
            {"id": 21, "name": "a", "required": false, "type": "int"}, {"id": 22, "name": "c", "required": false, "type": "string"}]}},
          {"id": 19, "name": "lst", "required": false, "type": {"type": "list", "element-id": 23, "element-required": false, "element": "long"}},
          {"id": 20, "name": "m", "required": false, "type": {"type": "map", "key-id": 24, "key": "string", "value-id": 25, "value-required": false, "value": "double"}}]}
        """;

    /// <summary>The same columns as a stream's schema (the management API's spelling).</summary>
    private const string StreamJson = """
        {"name": "every_type", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true}, {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"},
          {"name": "l", "type": "long"}, {"name": "f", "type": "float"}, {"name": "d", "type": "double"},
          {"name": "dec9", "type": "decimal(9,2)"}, {"name": "dec18", "type": "decimal(18,6)"}, {"name": "dec38", "type": "decimal(38,10)"},
          {"name": "day", "type": "date"}, {"name": "t", "type": "time"}, {"name": "ts", "type": "timestamp"}, {"name": "tstz", "type": "timestamptz"},
          {"name": "s", "type": "string"}, {"name": "u", "type": "uuid"}, {"name": "fx", "type": "fixed[4]"}, {"name": "bin", "type": "binary"},
          {"name": "st", "type": {"type": "struct", "fields": [{"name": "a", "type": "int"}, {"name": "c", "type": "string"}]}},
          {"name": "lst", "type": {"type": "list", "element": "long"}},
          {"name": "m", "type": {"type": "map", "key": "string", "value": "double"}}]}}
        """;

    /// <summary>The records written, as a stream and <c>table append</c> take them: extremes of every type, empty and null nested values, a row of NULLs.</summary>
    public const string Records = """
        {"id": 1, "b": true, "i": 42, "l": 1234567890123, "f": 1.5, "d": -2.25, "dec9": "1234567.89", "dec18": "-123456789012.345678", "dec38": "1234567890123456789012345678.0123456789", "day": "2024-02-29", "t": "12:34:56.789012", "ts": "2024-02-29T12:34:56.789012", "tstz": "2024-02-29T12:34:56.789012Z", "s": "alpha", "u": "f79c3e09-677c-4bbd-a479-3f349cb785e7", "fx": "AQIDBA==", "bin": "yv4=", "st": {"a": 7, "c": "it's, x"}, "lst": [1, 2, 3], "m": {"k1": 1.5, "k2": -0.5}}
        {"id": 2, "b": false, "i": -2147483648, "l": -9223372036854775808, "f": 3.4028235e38, "d": 1.7976931348623157e308, "dec9": "-9999999.99", "dec18": "999999999999.999999", "dec38": "-9999999999999999999999999999.9999999999", "day": "0001-01-01", "t": "00:00:00", "ts": "0001-01-01T00:00:00", "tstz": "9999-12-31T23:59:59.999999Z", "s": "", "u": "00000000-0000-0000-0000-000000000000", "fx": "AAAAAA==", "bin": "", "st": {"a": null, "c": null}, "lst": [], "m": {}}
        {"id": 3, "b": null, "i": 2147483647, "l": 9223372036854775807, "f": -1.0e-30, "d": 5e-324, "dec9": "0.01", "dec18": "0.000001", "dec38": "9999999999999999999999999999.9999999999", "day": "9999-12-31", "t": "23:59:59.999999", "ts": "9999-12-31T23:59:59.999999", "tstz": "0001-01-01T00:00:00Z", "s": "Ωmega \"q\" \\ 🚀", "u": "ffffffff-ffff-ffff-ffff-ffffffffffff", "fx": "/////w==", "bin": "AP8=", "st": null, "lst": [null, -9223372036854775808, 9223372036854775807], "m": {"n": null}}
        {"id": 4}
        """;

    /// <summary>
    /// The same rows in the canonical form the reader helpers return (parquet-readers/canonical.mjs): integers,
    /// decimals, dates (days since 1970), times (µs since midnight) and timestamps (µs since 1970) as text, floating
    /// point as numbers, uuid, fixed and binary as hex.
    /// </summary>
    public const string ExpectedJson = """
        [
          {"id": "1", "b": true, "i": "42", "l": "1234567890123", "f": 1.5, "d": -2.25, "dec9": "1234567.89", "dec18": "-123456789012.345678",
           "dec38": "1234567890123456789012345678.0123456789", "day": "19782", "t": "45296789012", "ts": "1709210096789012", "tstz": "1709210096789012",
           "s": "alpha", "u": "f79c3e09677c4bbda4793f349cb785e7", "fx": "01020304", "bin": "cafe", "st": {"a": "7", "c": "it's, x"}, "lst": ["1", "2", "3"],
           "m": {"k1": 1.5, "k2": -0.5}},
          {"id": "2", "b": false, "i": "-2147483648", "l": "-9223372036854775808", "f": 3.4028234663852886e+38, "d": 1.7976931348623157e+308,
           "dec9": "-9999999.99", "dec18": "999999999999.999999", "dec38": "-9999999999999999999999999999.9999999999", "day": "-719162", "t": "0",
           "ts": "-62135596800000000", "tstz": "253402300799999999", "s": "", "u": "00000000000000000000000000000000", "fx": "00000000", "bin": "",
           "st": {"a": null, "c": null}, "lst": [], "m": {}},
          {"id": "3", "b": null, "i": "2147483647", "l": "9223372036854775807", "f": -1.0000000031710769e-30, "d": 5e-324, "dec9": "0.01",
           "dec18": "0.000001", "dec38": "9999999999999999999999999999.9999999999", "day": "2932896", "t": "86399999999", "ts": "253402300799999999",
           "tstz": "-62135596800000000", "s": "Ωmega \"q\" \\ 🚀", "u": "ffffffffffffffffffffffffffffffff", "fx": "ffffffff", "bin": "00ff", "st": null,
           "lst": [null, "-9223372036854775808", "9223372036854775807"], "m": {"n": null}},
          {"id": "4", "b": null, "i": null, "l": null, "f": null, "d": null, "dec9": null, "dec18": null, "dec38": null, "day": null, "t": null,
           "ts": null, "tstz": null, "s": null, "u": null, "fx": null, "bin": null, "st": null, "lst": null, "m": null}
        ]
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("dataplane-readers-").FullName;

    public IcebergSchema Schema { get; } = IcebergSchema.FromJson(SchemaJson);

    public List<JsonElement> Expected { get; } = JsonDocument.Parse(ExpectedJson).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();

    /// <summary>The data directory the server ran on: <c>dataplane table ... --data</c> works on its catalog.</summary>
    public string DataDirectory => Path.Combine(_dir, "data");

    /// <summary>The warehouse folder (the tables' files are under it).</summary>
    public string Warehouse => Path.Combine(_dir, "data", "warehouse");

    public IReadOnlyList<WrittenTable> Tables { get; private set; } = [];

    public async Task InitializeAsync()
    {
        int port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_dir, port,
            ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", Path.Combine(_dir, "data"), "--log-format", "simple"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        async Task PostAsync(string path, string body)
        {
            var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{server.Output}");
        }

        // A pipeline from a stream, into a table of each profile.
        await PostAsync("api/v1/streams", StreamJson);
        await PostAsync("api/v1/sinks", $$"""{"name": "pipeline_default", "type": "iceberg", "namespace": "{{Namespace}}", "table": "pipeline_default"}""");
        await PostAsync("api/v1/sinks", $$"""{"name": "pipeline_compact", "type": "iceberg", "namespace": "{{Namespace}}", "table": "pipeline_compact", "properties": {"dataplane.parquet.profile": "compact"} }""");
        foreach (var sink in new[] { "pipeline_default", "pipeline_compact" })
            await PostAsync("api/v1/pipelines", $$"""{"name": "{{sink}}_pipeline", "sql": "INSERT INTO {{sink}} SELECT * FROM every_type"}""");
        await PostAsync("streams/every_type", Records);
        foreach (var sink in new[] { "pipeline_default", "pipeline_compact" })
            await PostAsync($"api/v1/pipelines/{sink}_pipeline/flush", "");

        // dataplane table create + append, through the running server's catalog.
        var schemaFile = Path.Combine(_dir, "schema.json");
        var recordsFile = Path.Combine(_dir, "records.ndjson");
        await File.WriteAllTextAsync(schemaFile, SchemaJson);
        await File.WriteAllTextAsync(recordsFile, Records);
        var url = server.BaseAddress.ToString();
        await RunOkAsync("table", "create", $"{Namespace}.cli_default", "--schema-file", schemaFile, "--server", url);
        await RunOkAsync("table", "create", $"{Namespace}.cli_compact", "--schema-file", schemaFile, "--property", "dataplane.parquet.profile=compact", "--server", url);
        await RunOkAsync("table", "append", $"{Namespace}.cli_default", recordsFile, "--server", url);
        await RunOkAsync("table", "append", $"{Namespace}.cli_compact", recordsFile, "--server", url);

        var tables = new List<WrittenTable>();
        foreach (var (name, compact) in new[] { ("pipeline_default", false), ("pipeline_compact", true), ("cli_default", false), ("cli_compact", true) })
        {
            var loaded = JsonDocument.Parse(await http.GetStringAsync($"iceberg/v1/namespaces/{Namespace}/tables/{name}")).RootElement;
            var metadata = loaded.GetProperty("metadata");
            long current = metadata.GetProperty("current-snapshot-id").GetInt64();
            var snapshot = metadata.GetProperty("snapshots").EnumerateArray().Single(s => s.GetProperty("snapshot-id").GetInt64() == current);
            var folder = Path.Combine(Warehouse, Namespace, name);
            tables.Add(new WrittenTable(name, compact, metadata.GetProperty("location").GetString()!, loaded.GetProperty("metadata-location").GetString()!,
                new Uri(snapshot.GetProperty("manifest-list").GetString()!).LocalPath,
                Directory.GetFiles(Path.Combine(folder, "data"), "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()));
        }
        Tables = tables;
    }

    /// <summary>Runs <c>dataplane ARGS</c> to its end; its output (stderr lines marked ERR).</summary>
    public async Task<string> RunOkAsync(params string[] args)
    {
        using var process = DataPlaneProcess.Start(args, _dir);
        var exit = await process.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"dataplane {string.Join(' ', args)} exited {exit}:\n{process.Output}");
        return process.Output;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>One written table: who wrote it, with which profile, where its metadata and files are.</summary>
public sealed record WrittenTable(string Name, bool Compact, string Location, string MetadataLocation, string ManifestList, IReadOnlyList<string> DataFiles)
{
    public override string ToString() => Name;
}
