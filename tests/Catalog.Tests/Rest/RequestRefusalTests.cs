using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;
using static DataPlane.Catalog.Tests.Rest.TableRequests;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>
/// Requests the catalog must refuse with a 4xx naming the offending value (they were 500s, or accepted and then
/// unreachable or pointing outside the warehouse), leaving what is stored unchanged.
/// </summary>
public sealed class RequestRefusalTests : IAsyncLifetime
{
    private RestCatalogServer _server = null!;
    private CatalogHttp _http = null!;
    private string _warehouse = null!;

    public async Task InitializeAsync()
    {
        _server = await RestCatalogServer.StartAsync();
        _http = new CatalogHttp(_server);
        _warehouse = _server.Catalog.WarehouseUri;
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "db" } }, "CreateNamespaceResponse");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("v1/namespaces", "{\"namespace\": [\"a\\ud800b\"]}", "$.namespace[0]")]
    [InlineData("v1/namespaces/db/properties", "{\"removals\": [\"\\udc00\"], \"updates\": {}}", "$.removals[0]")]
    [InlineData("v1/namespaces/db/tables", "{\"name\": \"t\", \"schema\": {\"type\": \"struct\", \"fields\": [{\"id\": 1, \"name\": \"\\ud800\", \"required\": true, \"type\": \"long\"}]}}", "$.schema.fields[0].name")]
    [InlineData("v1/tables/rename", "{\"source\": {\"namespace\": [\"db\"], \"name\": \"t\"}, \"destination\": {\"namespace\": [\"db\"], \"name\": \"\\ud800\"}}", "$.destination.name")]
    public async Task A_string_with_half_a_surrogate_pair_gets_400_naming_where_it_is(string path, string body, string where)
    {
        var refused = await _http.PostAsync(path, body, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", $"not text at {where}");
        await AssertNoTablesAsync();
    }

    [Fact]
    public async Task Bytes_that_are_not_utf8_in_a_string_or_a_name_get_400_naming_where_they_are()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };
        foreach (var (body, where) in new[]
        {
            ("{\"namespace\": [\"a\u00FFb\"]}", "$.namespace[0]"),
            ("{\"namespace\": [\"a\"], \"properties\": {\"k\u00C0\u00AF\": \"v\"}}", "$.properties (a property name)"),
        })
        {
            var bytes = body.Select(c => (byte)c).ToArray(); // each char one byte: \u00FF is the byte 0xFF, not UTF-8 on its own
            using var response = await http.PostAsync("v1/namespaces", new ByteArrayContent(bytes));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Contains($"not text at {where}", text);
        }
        var namespaces = await _http.GetAsync("v1/namespaces", "ListNamespacesResponse");
        Assert.Equal(["db"], namespaces.GetProperty("namespaces").EnumerateArray().Select(n => n[0].GetString()!));
    }

    [Theory]
    [InlineData("[]", "Array")]
    [InlineData("null", "Null")]
    [InlineData("5", "Number")]
    [InlineData("\"t\"", "String")]
    public async Task A_create_table_body_that_is_not_an_object_gets_400_naming_what_it_is(string body, string kind)
    {
        var refused = await _http.PostAsync("v1/namespaces/db/tables", body, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", $"CreateTableRequest must be a JSON object, got {kind}");
        await AssertNoTablesAsync();
    }

    [Theory]
    [InlineData("/db/../x")]
    [InlineData("/db/./x")]
    [InlineData("/..")]
    [InlineData("/.dataplane/x")]
    [InlineData("/.dataplane")]
    [InlineData("/db//x")]
    [InlineData("/db/%2e%2e/%2e%2e/x")]
    public async Task A_table_location_with_dot_segments_or_the_stores_reserved_folder_gets_400_naming_it(string suffix)
    {
        var location = _warehouse + suffix;
        var body = JsonNode.Parse(Create("t"))!.AsObject().Also(o => o["location"] = location).ToJsonString();
        var refused = await _http.PostAsync("v1/namespaces/db/tables", body, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", suffix.TrimStart('/'));
        await AssertNoTablesAsync();

        await _http.PostAsync("v1/namespaces/db/tables", Create("t"), "LoadTableResult");
        var move = Commit([], [new JsonObject { ["action"] = "set-location", ["location"] = location }]);
        CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables/t", move, null, HttpStatusCode.BadRequest), "BadRequestException", suffix.TrimStart('/'));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a\0")]
    [InlineData("a\\b")]
    [InlineData("tab\there")]
    public async Task A_namespace_or_table_name_that_cannot_be_a_folder_or_url_segment_gets_400_naming_it(string name)
    {
        var shown = name.Replace("\0", "\\u0000").Replace("\t", "\\u0009");
        var ns = await _http.PostAsync("v1/namespaces", JsonSerializer.Serialize(new { @namespace = new[] { name } }), null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(ns, "BadRequestException", $"'{shown}'");
        var nested = await _http.PostAsync("v1/namespaces", JsonSerializer.Serialize(new { @namespace = new[] { "db", name } }), null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(nested, "BadRequestException", $"'{shown}'");
        var listed = await _http.GetAsync("v1/namespaces", "ListNamespacesResponse");
        Assert.Equal(["db"], listed.GetProperty("namespaces").EnumerateArray().Select(n => string.Join('.', n.EnumerateArray().Select(l => l.GetString()))));

        var table = JsonNode.Parse(Create("x"))!.AsObject().Also(o => o["name"] = name).ToJsonString();
        CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables", table, null, HttpStatusCode.BadRequest), "BadRequestException", $"'{shown}'");
        await AssertNoTablesAsync();
    }

    [Fact]
    public async Task Commits_and_registrations_may_not_point_at_files_outside_the_warehouse()
    {
        var created = await _http.PostAsync("v1/namespaces/db/tables", Create("t"), "LoadTableResult");
        var before = created.GetProperty("metadata-location").GetString();
        foreach (var outside in new[] { "file:///etc/passwd", _warehouse + "/../../etc/passwd", "s3://someone-else/passwd", "/etc/passwd" })
        {
            var append = JsonNode.Parse(Append(_warehouse, 1, null, 1, "a.parquet"))!.AsObject();
            append["updates"]![0]!["snapshot"]!["manifest-list"] = outside;
            CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables/t", append.ToJsonString(), null, HttpStatusCode.BadRequest), "BadRequestException", outside);

            var statistics = Commit([], [new JsonObject
            {
                ["action"] = "set-statistics", ["snapshot-id"] = 1,
                ["statistics"] = new JsonObject { ["snapshot-id"] = 1, ["statistics-path"] = outside, ["file-size-in-bytes"] = 10, ["file-footer-size-in-bytes"] = 5, ["blob-metadata"] = new JsonArray() },
            }]);
            CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables/t", statistics, null, HttpStatusCode.BadRequest), "BadRequestException", outside);
            var partitionStatistics = Commit([], [new JsonObject
            {
                ["action"] = "set-partition-statistics",
                ["partition-statistics"] = new JsonObject { ["snapshot-id"] = 1, ["statistics-path"] = outside, ["file-size-in-bytes"] = 10 },
            }]);
            CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables/t", partitionStatistics, null, HttpStatusCode.BadRequest), "BadRequestException", outside);
        }
        var loaded = await _http.GetAsync("v1/namespaces/db/tables/t", "LoadTableResult");
        Assert.Equal(before, loaded.GetProperty("metadata-location").GetString());

        // A metadata file in the warehouse that points outside it: registering it is refused the same way.
        var metadata = JsonNode.Parse(loaded.GetProperty("metadata").GetRawText())!.AsObject();
        metadata["location"] = _warehouse + "/db/registered";
        metadata["snapshots"] = new JsonArray(new JsonObject
        {
            ["snapshot-id"] = 7, ["sequence-number"] = 1, ["timestamp-ms"] = 1, ["manifest-list"] = "file:///etc/passwd",
            ["summary"] = new JsonObject { ["operation"] = "append" }, ["schema-id"] = 0,
        });
        metadata["current-snapshot-id"] = 7;
        metadata["last-sequence-number"] = 1;
        var file = Path.Combine(_server.Folder, "warehouse", "db", "registered", "metadata", "00000-x.metadata.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, metadata.ToJsonString());
        var register = JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = "registered", ["metadata-location"] = new Uri(file).ToString() });
        CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/register", register, null, HttpStatusCode.BadRequest), "BadRequestException", "file:///etc/passwd");

        metadata["snapshots"] = new JsonArray();
        metadata["current-snapshot-id"] = -1;
        metadata["location"] = "file:///etc";
        File.WriteAllText(file, metadata.ToJsonString());
        CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/register", register, null, HttpStatusCode.BadRequest), "BadRequestException", "file:///etc");
        await _http.GetAsync("v1/namespaces/db/tables/registered", "LoadTableResult", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_body_over_16_MiB_gets_413_with_an_error_body_whether_or_not_it_gives_its_length()
    {
        var huge = "{\"name\":\"t\",\"properties\":{\"pad\":\"" + new string('x', 17 << 20) + "\"}}";
        var withLength = await _http.PostAsync("v1/namespaces/db/tables", huge, null, HttpStatusCode.RequestEntityTooLarge);
        CatalogHttp.AssertError(withLength, "BadRequestException", "16 MiB");

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/namespaces/db/tables")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge))),
        };
        request.Headers.TransferEncodingChunked = true;
        using var response = await _http.Raw.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        CatalogHttp.AssertError(error, "BadRequestException", "16 MiB");
        await AssertNoTablesAsync();
    }

    [Fact]
    public async Task A_registration_naming_a_file_too_large_for_metadata_gets_400_before_it_is_read()
    {
        var file = Path.Combine(_server.Folder, "warehouse", "db", "big", "metadata", "00000-big.metadata.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using (var big = File.Create(file)) big.SetLength((256L << 20) + 1); // sparse: no disk, no time
        var register = JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = "big", ["metadata-location"] = new Uri(file).ToString() });
        var refused = await _http.PostAsync("v1/namespaces/db/register", register, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", $"{(256L << 20) + 1} bytes");
        await AssertNoTablesAsync();
    }

    [Theory]
    [InlineData("""{"updates":[5]}""", "5")]
    [InlineData("""{"updates":[{"action":"add-view-version","view-version":5}]}""", "view-version")]
    [InlineData("""{"updates":[{"action":"set-current-view-version","view-version-id":"x"}]}""", "\"x\"")]
    [InlineData("""{"requirements":[5],"updates":[]}""", "5")]
    public async Task A_view_change_of_the_wrong_shape_gets_400_naming_it(string body, string mentions)
    {
        var view = """{"name":"v","schema":{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"x","required":false,"type":"long"}]},"view-version":{"version-id":1,"timestamp-ms":1,"schema-id":0,"summary":{},"representations":[{"type":"sql","sql":"select 1","dialect":"spark"}],"default-namespace":["db"]}}""";
        var created = await _http.PostAsync("v1/namespaces/db/views", view, "LoadViewResult");
        var refused = await _http.PostAsync("v1/namespaces/db/views/v", body, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", mentions);
        var loaded = await _http.GetAsync("v1/namespaces/db/views/v", "LoadViewResult");
        Assert.Equal(created.GetProperty("metadata-location").GetString(), loaded.GetProperty("metadata-location").GetString());
    }

    private async Task AssertNoTablesAsync()
    {
        var tables = await _http.GetAsync("v1/namespaces/db/tables", "ListTablesResponse");
        Assert.Equal(0, tables.GetProperty("identifiers").GetArrayLength());
    }
}
