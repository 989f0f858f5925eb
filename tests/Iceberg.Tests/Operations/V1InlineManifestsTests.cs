using System.Text.Json.Nodes;
using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Tests.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.Operations;

/// <summary>Format v1 let a snapshot list its manifests inline (<c>manifests</c>) instead of in a manifest list.</summary>
public sealed class V1InlineManifestsTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0, [NestedField.Require(1, "id", PrimitiveType.Long), NestedField.Optional(2, "name", PrimitiveType.String)]);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-v1");
    private readonly IObjectStore _store;

    public V1InlineManifestsTests() => _store = ObjectStore.Open(_dir.FullName);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    private static RecordBatch Batch(long first, int count) => new(ArrowSchemaMapping.ToArrow(Schema),
    [
        ArrowColumns.Longs(Enumerable.Range(0, count).Select(i => (long?)(first + i)).ToArray()),
        ArrowColumns.Strings(Enumerable.Range(0, count).Select(i => (string?)$"n{first + i}").ToArray()),
    ], count);

    private static async Task<List<long>> IdsAsync(Table table)
    {
        var ids = new List<long>();
        foreach (var task in await table.NewScan().PlanFilesAsync())
            await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(task.File.FilePath), table.Schema))
                using (batch)
                    ids.AddRange(((Int64Array)batch.Column("id")).Values.ToArray());
        return ids.Order().ToList();
    }

    [Fact]
    public async Task A_v1_snapshot_with_inline_manifests_is_scanned_and_can_be_appended_to()
    {
        var committer = new FileTableCommitter(_store, "db/legacy");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, PartitionSpec.BuilderFor(Schema).Bucket("id", 2).Build());
        await TableBatches.AppendAsync(table, [Batch(0, 100)]);

        // Rewrite the table as a v1 writer would have left it: the snapshot names its manifests inline, no manifest list.
        var snapshot = table.Metadata.CurrentSnapshot!;
        List<string> manifestPaths;
        using (var list = await new TableIO(_store).ReadAsync(snapshot.ManifestList!, default))
            manifestPaths = ManifestList.Read(list).Select(m => m.ManifestPath).ToList();
        var json = JsonNode.Parse(table.Metadata.ToJson())!.AsObject();
        json["format-version"] = 1;
        var snapshotJson = json["snapshots"]!.AsArray()[0]!.AsObject();
        snapshotJson.Remove("manifest-list");
        snapshotJson.Remove("sequence-number");
        snapshotJson["manifests"] = new JsonArray(manifestPaths.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray());
        var v1 = TableMetadata.FromJson(json.ToJsonString());
        Assert.Null(v1.CurrentSnapshot!.ManifestList);
        Assert.Equal(manifestPaths, v1.CurrentSnapshot.Manifests);
        await committer.CommitAsync(new TableCommit(table.State, v1));

        var legacy = await Table.LoadAsync(_store, committer);
        Assert.Equal(manifestPaths, legacy.Metadata.CurrentSnapshot!.Manifests); // written back inline, not dropped
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), await IdsAsync(legacy));

        // A new commit on top keeps the inline manifests' files.
        await TableBatches.AppendAsync(legacy, [Batch(100, 50)]);
        Assert.NotNull(legacy.Metadata.CurrentSnapshot!.ManifestList);
        Assert.Equal(Enumerable.Range(0, 150).Select(i => (long)i), await IdsAsync(legacy));
    }
}
