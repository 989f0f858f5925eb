using System.Net;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Types;
using DataPlane.Pipelines.Tests.EndToEnd;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// Lookup joins of an Iceberg table in a pipeline: the table's current snapshot, reloaded when another writer commits
/// a new one (checked before every batch here, LookupRefreshSeconds 0), so records after the commit see the new
/// values; the sink's table read back by DuckDB. A missing table or column, and a table over the size limit, are
/// refused when the pipeline is created, naming them.
/// </summary>
public sealed class LookupJoinPipelineTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-lookup-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir, o =>
    {
        o.LookupRefreshSeconds = 0;
        o.LookupWaitSeconds = 60; // generous: a batch waits for the reload, so which rows a record sees does not depend on the machine's speed
        o.MaxLookupTableBytes = 64 * 1024;
    });

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private ICatalog Catalog => _host.Services.GetRequiredService<ICatalog>();

    private async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        var response = await _host.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The customers table, as another writer (not the pipeline) creates it.</summary>
    private async Task<Table> CreateCustomersAsync()
    {
        await Catalog.CreateNamespaceIfMissingAsync(["crm"]);
        return await Catalog.CreateTableAsync(new TableIdentifier(["crm"], "customers"), new IcebergSchema(0,
        [
            NestedField.Require(1, "id", PrimitiveType.Long),
            NestedField.Optional(2, "name", PrimitiveType.String),
            NestedField.Optional(3, "tier", PrimitiveType.String),
        ]));
    }

    /// <summary>Replaces every row of the table with these, in one snapshot (an overwrite, as a batch job's would be).</summary>
    private static async Task ReplaceRowsAsync(Table table, params (long Id, string Name, string Tier)[] rows)
    {
        await table.RefreshAsync();
        var schema = ArrowSchemaMapping.ToArrow(table.Schema);
        var batch = new RecordBatch(schema, [
            new Int64Array.Builder().AppendRange(rows.Select(r => r.Id)).Build(),
            new StringArray.Builder().AppendRange(rows.Select(r => r.Name)).Build(),
            new StringArray.Builder().AppendRange(rows.Select(r => r.Tier)).Build()], rows.Length);
        IReadOnlyList<Iceberg.Manifests.DataFile> files;
        await using (var writer = new TableDataWriter(table))
        {
            await writer.WriteAsync(batch);
            files = await writer.CompleteAsync();
        }
        await table.OverwriteAsync(Expression.True, files);
    }

    private async Task SetUpPipelineAsync()
    {
        await PostAsync("api/v1/streams", """
            {"name": "orders", "schema": {"fields": [{"name": "order_id", "type": "long", "required": true}, {"name": "customer_id", "type": "long"}]}}
            """, HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "enriched", "type": "iceberg", "namespace": "default", "table": "enriched", "rolling": {"interval_seconds": 3600}}""",
            HttpStatusCode.Created);
    }

    [Fact]
    public async Task Records_after_another_writer_commits_see_the_new_rows_and_DuckDB_reads_the_enriched_table()
    {
        var customers = await CreateCustomersAsync();
        await ReplaceRowsAsync(customers, (1, "Ada", "gold"), (2, "Bob", "silver"));
        await SetUpPipelineAsync();
        const string sql = "INSERT INTO enriched SELECT o.order_id, c.name, c.tier FROM orders o LEFT JOIN crm.customers c ON o.customer_id = c.id";
        var validated = await PostAsync("api/v1/pipelines/validate", JsonSerializer.Serialize(new { sql }), HttpStatusCode.OK);
        Assert.Contains("LookupJoin LEFT keys [customer_id = id] table crm.customers (iceberg)", validated.GetRawText().Replace("\\u003C", "<").Replace("\\u003E", ">"));
        await PostAsync("api/v1/pipelines", JsonSerializer.Serialize(new { name = "enrich", sql }), HttpStatusCode.Created);

        await PostAsync("streams/orders", """
            {"order_id": 1, "customer_id": 1}
            {"order_id": 2, "customer_id": 2}
            {"order_id": 3, "customer_id": 3}
            """, HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/enrich/flush", "", HttpStatusCode.OK);
        // The second writer's commit: Ada moves up, Bob goes, Cy comes.
        await ReplaceRowsAsync(customers, (1, "Ada", "platinum"), (3, "Cy", "bronze"));
        await PostAsync("streams/orders", """
            {"order_id": 4, "customer_id": 1}
            {"order_id": 5, "customer_id": 2}
            {"order_id": 6, "customer_id": 3}
            {"order_id": 7, "customer_id": null}
            """, HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/enrich/flush", "", HttpStatusCode.OK);

        var table = await Catalog.LoadTableAsync(new TableIdentifier(["default"], "enriched"));
        var files = await TableContents.LiveFilesAsync(table);
        Assert.Equal(
            ["1|Ada|gold", "2|Bob|silver", "3|NULL|NULL", "4|Ada|platinum", "5|NULL|NULL", "6|Cy|bronze", "7|NULL|NULL"],
            TableContents.Rows($"SELECT order_id, name, tier FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])"));
    }

    [Fact]
    public async Task A_missing_table_or_column_and_a_table_over_the_size_limit_are_refused_naming_them()
    {
        await SetUpPipelineAsync();
        var missing = await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO enriched SELECT o.order_id, c.name FROM orders o JOIN crm.nobody c ON o.customer_id = c.id"}""",
            HttpStatusCode.NotFound);
        Assert.Contains("No table 'crm.nobody'", missing.GetProperty("error").GetString());

        var customers = await CreateCustomersAsync();
        await ReplaceRowsAsync(customers, (1, "Ada", "gold"));
        var column = await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO enriched SELECT o.order_id, c.name FROM orders o JOIN crm.customers c ON o.customer_id = c.customer_id"}""",
            HttpStatusCode.BadRequest);
        Assert.Contains("there is no column \"customer_id\" in c", column.GetProperty("error").GetString());

        // Past MaxLookupTableBytes (64 KiB here): many rows of long names.
        await ReplaceRowsAsync(customers, Enumerable.Range(0, 2000).Select(i => ((long)i, Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"), "t" + i)).ToArray());
        var large = await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO enriched SELECT o.order_id, c.name FROM orders o JOIN crm.customers c ON o.customer_id = c.id"}""",
            HttpStatusCode.BadRequest);
        Assert.Matches(@"Table 'crm\.customers' is [0-9.]+ MiB \([0-9]+ bytes\); a lookup join loads tables of at most 0\.06 MiB \(setting Pipelines:MaxLookupTableBytes", large.GetProperty("error").GetString());
        Assert.Empty(JsonDocument.Parse(await _host.Client.GetStringAsync("api/v1/pipelines")).RootElement.GetProperty("pipelines").EnumerateArray());
    }
}
