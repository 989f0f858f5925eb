using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Catalog.RestClient;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

public sealed class ConcurrentCommitTests
{
    private const int Writers = 16;
    private const int AppendsPerWriter = 50;

    [Fact]
    public async Task Sixteen_writers_appending_fifty_times_each_leave_exactly_800_snapshots_and_lose_no_data_file()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        string[] ns = ["load"];
        await client.CreateNamespaceAsync(ns);
        await client.CreateTableAsync(ns, JsonNode.Parse(TableRequests.Create("appends"))!.AsObject());

        var conflicts = 0;
        // Every writer first reads the same empty table, so all but one of the first commits must lose and retry.
        using var start = new Barrier(Writers);
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var first = true;
            for (var i = 0; i < AppendsPerWriter; i++)
            {
                var file = $"data/w{w:D2}-{i:D3}.parquet";
                var snapshotId = (w + 1) * 100_000L + i;
                while (true)
                {
                    var table = await client.LoadTableAsync(ns, "appends");
                    if (first) { start.SignalAndWait(); first = false; }
                    var append = JsonNode.Parse(TableRequests.Append(server.Catalog.WarehouseUri, snapshotId, table.CurrentSnapshotId, table.LastSequenceNumber + 1, file))!.AsObject();
                    try
                    {
                        await client.CommitTableAsync(ns, "appends", append["requirements"]!.DeepClone().AsArray(), append["updates"]!.DeepClone().AsArray());
                        break;
                    }
                    catch (RestCatalogException e) when (e.IsCommitConflict)
                    {
                        Interlocked.Increment(ref conflicts);
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);

        var final = await client.LoadTableAsync(ns, "appends");
        var snapshots = final.Metadata.GetProperty("snapshots").EnumerateArray().ToDictionary(s => s.GetProperty("snapshot-id").GetInt64());
        Assert.Equal(Writers * AppendsPerWriter, snapshots.Count);
        // Walk main's lineage: every snapshot is on it once, so no commit replaced another's.
        var files = new ConcurrentBag<string>();
        var seen = 0;
        for (long? id = final.CurrentSnapshotId; id is not null; seen++)
        {
            var s = snapshots[id.Value];
            files.Add(s.GetProperty("summary").GetProperty("test.data-file").GetString()!);
            id = s.TryGetProperty("parent-snapshot-id", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : null;
        }
        Assert.Equal(Writers * AppendsPerWriter, seen);
        var expected = Enumerable.Range(0, Writers).SelectMany(w => Enumerable.Range(0, AppendsPerWriter).Select(i => $"data/w{w:D2}-{i:D3}.parquet")).Order();
        Assert.Equal(expected, files.Order());
        Assert.Equal(Writers * AppendsPerWriter, final.LastSequenceNumber);
        Assert.True(conflicts >= Writers - 1, $"only {conflicts} commits lost a race");
    }
}
