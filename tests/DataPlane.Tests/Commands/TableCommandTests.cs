using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apache.Arrow;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Tests.Commands;

/// <summary>`dataplane table ...` works on the catalog `dataplane serve` serves: on the data directory by default, through a running server with --server.</summary>
public sealed class TableCommandTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-table-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    private string Warehouse => Path.Combine(_workDir, "data", "warehouse");

    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var process = DataPlaneProcess.Start(args, _workDir);
        var exit = await process.WaitAsync(TimeSpan.FromMinutes(2));
        return (exit, process.Output);
    }

    private async Task<string> RunOkAsync(params string[] args)
    {
        var (exit, output) = await RunAsync(args);
        Assert.True(exit == 0, $"dataplane {string.Join(' ', args)} exited {exit}:\n{output}");
        return output;
    }

    private Task<DataPlaneProcess> ServeAsync() =>
        DataPlaneProcess.StartServerAsync(_workDir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--log-format", "simple"]);

    private static async Task<IcebergRestClient> ClientAsync(DataPlaneProcess server)
    {
        var client = new IcebergRestClient(new Uri(server.BaseAddress, "iceberg"));
        await client.InitializeAsync();
        return client;
    }

    /// <summary>Appends rows through the REST catalog (the table library committing over HTTP), as an outside engine would.</summary>
    private async Task<long> AppendThroughRestAsync(IcebergRestClient client, string ns, string name, params (long Id, string User)[] rows)
    {
        using var store = ObjectStore.Open(Warehouse);
        var table = await Table.LoadAsync(store, new RestTableCommitter(client, [ns], name));
        var batch = new RecordBatch(ArrowSchemaMapping.ToArrow(table.Schema),
        [
            new Int64Array.Builder().AppendRange(rows.Select(r => r.Id)).Build(),
            new StringArray.Builder().AppendRange(rows.Select(r => r.User)).Build(),
        ], rows.Length);
        return (await TableBatches.AppendAsync(table, [batch])).SnapshotId;
    }

    private static JsonObject ClicksTable() => new()
    {
        ["name"] = "clicks",
        ["schema"] = JsonNode.Parse("""{"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "id", "required": true, "type": "long"}, {"id": 2, "name": "user", "required": false, "type": "string"}]}"""),
    };

    [Fact]
    public async Task A_table_created_by_the_cli_is_served_by_serve_and_one_written_through_serve_is_read_by_the_cli()
    {
        var created = await RunOkAsync("table", "create", "db.events", "--schema", "id:long!,ts:timestamptz,data:string", "--partition", "day(ts)");
        Assert.Contains("Created db.events at file://", created);

        await using var server = await ServeAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var tables = JsonDocument.Parse(await http.GetStringAsync("iceberg/v1/namespaces/db/tables")).RootElement;
        Assert.Equal("events", Assert.Single(tables.GetProperty("identifiers").EnumerateArray()).GetProperty("name").GetString());
        var metadata = JsonDocument.Parse(await http.GetStringAsync("iceberg/v1/namespaces/db/tables/events")).RootElement.GetProperty("metadata");
        Assert.Equal(["id", "ts", "data"], metadata.GetProperty("schemas")[0].GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToArray());
        Assert.Equal("day", metadata.GetProperty("partition-specs")[0].GetProperty("fields")[0].GetProperty("transform").GetString());

        // Written through the server's REST catalog while it runs; the CLI reads the same catalog files.
        using var client = await ClientAsync(server);
        await client.CreateNamespaceAsync(["web"]);
        await client.CreateTableAsync(["web"], ClicksTable());
        var snapshotId = await AppendThroughRestAsync(client, "web", "clicks", (1, "ada"), (2, "bob"), (3, "cy"));

        var list = await RunOkAsync("table", "list");
        Assert.Equal(["db.events", "web.clicks"], list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var scan = await RunOkAsync("table", "scan", "web.clicks");
        Assert.Contains($"Snapshot {snapshotId}: 1 file(s), 3 record(s)", scan);
        Assert.Contains("2 | bob", scan);
    }

    [Fact]
    public async Task Append_writes_json_records_as_one_snapshot_by_the_tables_write_properties_and_refuses_a_bad_record_naming_it()
    {
        await RunOkAsync("table", "create", "web.clicks", "--schema", "id:long!,user:string", "--property", "write.parquet.compression-codec=snappy");
        var records = Path.Combine(_workDir, "clicks.ndjson");
        await File.WriteAllTextAsync(records, "{\"id\": 1, \"user\": \"ada\"}\n{\"id\": 2}\n");
        Assert.Contains("Appended 2 record(s) in 1 file(s) to web.clicks", await RunOkAsync("table", "append", "web.clicks", records));
        var files = Directory.GetFiles(Path.Combine(Warehouse, "web", "clicks", "data"), "*.parquet");
        using (var duck = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:"))
        {
            duck.Open();
            using var query = duck.CreateCommand();
            query.CommandText = $"SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata('{Assert.Single(files)}')";
            Assert.Equal("SNAPPY", query.ExecuteScalar());
        }

        await File.WriteAllTextAsync(records, "[{\"id\": 3, \"user\": \"cy\"}, {\"id\": \"four\"}]");
        var (exit, output) = await RunAsync("table", "append", "web.clicks", records);
        Assert.Equal(1, exit);
        Assert.Contains("record 1, field 'id'", output);
        Assert.Single(Directory.GetFiles(Path.Combine(Warehouse, "web", "clicks", "data"), "*.parquet"));
        Assert.Contains("2 record(s)", await RunOkAsync("table", "scan", "web.clicks", "--rows", "0"));

        (exit, output) = await RunAsync("table", "create", "web.other", "--schema", "id:long!", "--property", "write.parquet.compression-level=fast");
        Assert.Equal(1, exit);
        Assert.Contains("write.parquet.compression-level = 'fast'", output);
    }

    [Fact]
    public async Task With_server_every_table_command_goes_through_the_running_servers_catalog()
    {
        await using var server = await ServeAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');

        Assert.Contains("Created web.clicks", await RunOkAsync("table", "create", "web.clicks", "--schema", "id:long!,user:string", "--server", url));
        using var client = await ClientAsync(server);
        Assert.Null((await client.LoadTableAsync(["web"], "clicks")).CurrentSnapshotId);
        var snapshotId = await AppendThroughRestAsync(client, "web", "clicks", (10, "ada"), (20, "bob"));

        Assert.Equal("web.clicks", (await RunOkAsync("table", "list", "web", "--server", url)).Trim());
        Assert.Contains($"Current snapshot: {snapshotId} (append", await RunOkAsync("table", "describe", "web.clicks", "--server", url));
        Assert.Contains($"{snapshotId}", await RunOkAsync("table", "snapshots", "web.clicks", "--server", url));
        var scan = await RunOkAsync("table", "scan", "web.clicks", "--where", "id >= 15", "--server", url);
        Assert.Contains($"Snapshot {snapshotId}: 1 file(s), 2 record(s)", scan);
        Assert.Contains("20 | bob", scan);

        Assert.Contains("Dropped web.clicks", await RunOkAsync("table", "drop", "web.clicks", "--server", url));
        var error = await Assert.ThrowsAsync<RestCatalogException>(() => client.LoadTableAsync(["web"], "clicks"));
        Assert.True(error.IsNotFound);
        var (exit, output) = await RunAsync("table", "describe", "web.clicks", "--server", url);
        Assert.Equal(1, exit);
        Assert.Contains("NoSuchTableException", output);
    }

    [Fact]
    public async Task Table_and_namespace_commands_reach_the_server_named_by_DATAPLANE_SERVER_with_DATAPLANE_TOKEN()
    {
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, _port,
            ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--log-format", "simple"],
            new Dictionary<string, string> { ["DATAPLANE_CATALOG__TOKENS__0__TOKEN"] = "s3cret" });
        var environment = new Dictionary<string, string> { ["DATAPLANE_SERVER"] = server.BaseAddress.ToString(), ["DATAPLANE_TOKEN"] = "s3cret" };
        async Task<string> Run(IDictionary<string, string> env, params string[] args)
        {
            using var process = DataPlaneProcess.Start(args, _workDir, env);
            var exit = await process.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(exit == 0, $"dataplane {string.Join(' ', args)} exited {exit}:\n{process.Output}");
            return process.Output;
        }

        await Run(environment, "namespace", "create", "web");
        await Run(environment, "table", "create", "web.clicks", "--schema", "id:long!,user:string");

        Assert.Equal("web", (await Run(environment, "namespace", "list")).Trim());
        Assert.Equal("web.clicks", (await Run(environment, "table", "list")).Trim());
        // --data names an embedded catalog, which wins over the environment's server.
        Assert.Equal("", (await Run(environment, "table", "list", "--data", Path.Combine(_workDir, "elsewhere"))).Trim());
        using var refused = DataPlaneProcess.Start(["table", "list"], _workDir, new Dictionary<string, string> { ["DATAPLANE_SERVER"] = server.BaseAddress.ToString() });
        Assert.Equal(1, await refused.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("NotAuthorized", refused.Output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
