using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Types;
using DataPlane.Catalog.Warehouse;
using Xunit;

namespace DataPlane.Catalog.Tests.Operations;

public sealed class LocalWarehouseTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("warehouse");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Compact_definitions_parse_columns_and_transforms()
    {
        var schema = TableDefinition.ParseSchema("id:long!, data:string, price:decimal(9,2), ts:timestamptz");
        Assert.Equal(["id", "data", "price", "ts"], schema.Columns.Select(c => c.Name));
        Assert.True(schema.Field("id").Required);
        Assert.Equal(PrimitiveType.Decimal(9, 2), schema.Field("price").Type);
        var spec = TableDefinition.ParsePartitionSpec(schema, "day(ts), bucket(16, id), data");
        Assert.Equal(["ts_day", "id_bucket", "data"], spec.Fields.Select(f => f.Name));
        Assert.Equal(Transform.Bucket(16), spec.Fields[1].Transform);
        Assert.Throws<ArgumentException>(() => TableDefinition.ParsePartitionSpec(schema, "zorder(id)"));
        Assert.Throws<FormatException>(() => TableDefinition.ParseSchema("id:varchar"));
    }

    [Fact]
    public async Task Tables_live_in_namespace_folders_and_are_created_once()
    {
        using var warehouse = new LocalWarehouse(_dir.FullName);
        var schema = TableDefinition.ParseSchema("id:long!,ts:timestamptz");
        var table = await warehouse.CreateTableAsync("db.events", schema, TableDefinition.ParsePartitionSpec(schema, "day(ts)"));
        Assert.True(File.Exists(Path.Combine(_dir.FullName, "db", "events", "metadata", "v1.metadata.json")));
        Assert.True(await warehouse.ExistsAsync("db.events"));
        Assert.False(await warehouse.ExistsAsync("db.other"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => warehouse.CreateTableAsync("db.events", schema));
        var loaded = await warehouse.LoadTableAsync("db.events");
        Assert.Equal(table.Metadata.TableUuid, loaded.Metadata.TableUuid);
        Assert.Equal("ts_day", loaded.Spec.Fields.Single().Name);
        Assert.Throws<ArgumentException>(() => LocalWarehouse.TableKey("events"));
    }
}
