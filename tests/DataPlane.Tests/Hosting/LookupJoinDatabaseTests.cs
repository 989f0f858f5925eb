using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DataPlane.Hosting;
using DuckDB.NET.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// A pipeline of <c>dataplane serve</c> enriching a stream from one of its databases' tables (<c>db.crm.customers</c>):
/// read with a bookmark at least the database's newest position when checked, so records sent after a write see it;
/// the output read back by DuckDB.
/// </summary>
public sealed class LookupJoinDatabaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dataplane-lookup-db-").FullName;

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body, HttpStatusCode expected)
    {
        using var response = await http.PostAsync(path, new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The rows of the files the sink's commits name, read by DuckDB: columns joined by '|', sorted.</summary>
    private List<string> Committed()
    {
        var warehouse = Path.Combine(_dir, "warehouse");
        var files = Directory.GetFiles(Path.Combine(warehouse, "raw", "enriched", "_dataplane", "commits"), "*.json")
            .SelectMany(c => JsonDocument.Parse(File.ReadAllText(c)).RootElement.GetProperty("files").EnumerateArray())
            .Select(f => Path.Combine(warehouse, f.GetProperty("key").GetString()!)).ToList();
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT order_id, name, tier FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])";
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, 3).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    [Fact]
    public async Task Records_sent_after_a_database_write_are_enriched_with_it()
    {
        var (options, configuration) = DataPlaneConfiguration.Load(null, new Dictionary<string, string?>
        {
            ["Port"] = "0", ["Data"] = _dir, ["LogFormat"] = "simple",
            ["Pipelines:LookupRefreshSeconds"] = "0", ["Pipelines:LookupWaitSeconds"] = "60",
        });
        await using var app = ServerHost.Build(options, configuration);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        await PostAsync(http, "api/v1/databases", new { name = "crm", replicas = 1 }, HttpStatusCode.Created);
        await PostAsync(http, "db/crm/query", new { sql = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, tier TEXT)" }, HttpStatusCode.OK);
        await PostAsync(http, "db/crm/query", new { sql = "INSERT INTO customers VALUES (1, 'Ada', 'gold'), (2, 'Bob', 'silver')" }, HttpStatusCode.OK);
        await PostAsync(http, "api/v1/streams", """
            {"name": "orders", "schema": {"fields": [{"name": "order_id", "type": "long", "required": true}, {"name": "customer_id", "type": "long"}]}}
            """, HttpStatusCode.Created);
        await PostAsync(http, "api/v1/sinks", """{"name": "enriched", "type": "files", "path": "raw/enriched", "rolling": {"interval_seconds": 3600}}""", HttpStatusCode.Created);

        var missing = await PostAsync(http, "api/v1/pipelines", new { name = "p", sql = "INSERT INTO enriched SELECT o.order_id, c.name FROM orders o JOIN db.crm.nobody c ON o.customer_id = c.id" },
            HttpStatusCode.NotFound);
        Assert.Contains("No table 'nobody' in database 'crm'", missing.GetRawText());
        await PostAsync(http, "api/v1/pipelines", new
        {
            name = "enrich",
            sql = "INSERT INTO enriched SELECT o.order_id, c.name, c.tier FROM orders o LEFT JOIN db.crm.customers c ON o.customer_id = c.id",
        }, HttpStatusCode.Created);

        await PostAsync(http, "streams/orders", "{\"order_id\": 1, \"customer_id\": 1}\n{\"order_id\": 2, \"customer_id\": 2}\n{\"order_id\": 3, \"customer_id\": 3}", HttpStatusCode.OK);
        await PostAsync(http, "api/v1/pipelines/enrich/flush", "", HttpStatusCode.OK);
        await PostAsync(http, "db/crm/query", new { sql = "UPDATE customers SET tier = 'platinum' WHERE id = 1" }, HttpStatusCode.OK);
        await PostAsync(http, "db/crm/query", new { sql = "DELETE FROM customers WHERE id = 2" }, HttpStatusCode.OK);
        var written = await PostAsync(http, "db/crm/query", new { sql = "INSERT INTO customers VALUES (3, 'Cy', 'bronze')" }, HttpStatusCode.OK);
        string bookmark = written.GetProperty("bookmark").GetString()!;
        await PostAsync(http, "streams/orders", "{\"order_id\": 4, \"customer_id\": 1}\n{\"order_id\": 5, \"customer_id\": 2}\n{\"order_id\": 6, \"customer_id\": 3}", HttpStatusCode.OK);
        await PostAsync(http, "api/v1/pipelines/enrich/flush", "", HttpStatusCode.OK);

        Assert.Equal(["1|Ada|gold", "2|Bob|silver", "3|NULL|NULL", "4|Ada|platinum", "5|NULL|NULL", "6|Cy|bronze"], Committed());
        var lookup = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/enrich")).RootElement.GetProperty("lookups")[0];
        Assert.Equal("db.crm.customers", lookup.GetProperty("table").GetString());
        Assert.True(string.CompareOrdinal(lookup.GetProperty("version").GetString(), bookmark) >= 0, $"the rows in hand ({lookup}) are older than the write's bookmark {bookmark}");
        Assert.Equal(2, lookup.GetProperty("rows").GetInt32());
        await app.StopAsync();
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
