using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Tests.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>
/// A file-system table (<c>db/events</c>: <c>id</c> long, <c>part</c> int) in a temporary folder for the maintenance
/// tests, written with real Parquet files, and read back by the table library with row-level deletes applied.
/// </summary>
internal sealed class MaintenanceTable : IDisposable
{
    public static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "part", PrimitiveType.Int),
    ]);

    private readonly DirectoryInfo _dir;

    private MaintenanceTable(DirectoryInfo dir, IObjectStore store, Table table)
    {
        _dir = dir;
        Store = store;
        Table = table;
    }

    public IObjectStore Store { get; }
    public Table Table { get; }
    public string Folder => Path.Combine(_dir.FullName, "db", "events");

    public static async Task<MaintenanceTable> CreateAsync(bool partitioned = false, IReadOnlyDictionary<string, string>? properties = null)
    {
        var dir = Directory.CreateTempSubdirectory("maintenance-");
        var store = ObjectStore.Open(dir.FullName);
        var committer = new FileTableCommitter(store, "db/events");
        var spec = partitioned ? PartitionSpec.BuilderFor(Schema).Identity("part").Build() : PartitionSpec.Unpartitioned;
        var table = await Table.CreateAsync(store, committer, committer.TableLocation, Schema, spec, properties: properties);
        return new MaintenanceTable(dir, store, table);
    }

    public static RecordBatch Batch(IReadOnlyList<long> ids, int partitions = 1) => new(ArrowSchemaMapping.ToArrow(Schema),
    [
        ArrowColumns.Longs(ids.Select(i => (long?)i).ToArray()),
        new Int32Array.Builder().AppendRange(ids.Select(i => (int)(i % partitions))).Build(),
    ], ids.Count);

    /// <summary>Writes the ids as new data files (one per partition) and appends them.</summary>
    public async Task<Snapshot> AppendAsync(IEnumerable<long> ids, int partitions = 1, IReadOnlyDictionary<string, string>? summary = null, string branch = SnapshotRef.MainBranch)
    {
        var files = await WriteAsync(ids, partitions);
        return await Table.AppendAsync(files, summary, branch);
    }

    public async Task<IReadOnlyList<DataFile>> WriteAsync(IEnumerable<long> ids, int partitions = 1)
    {
        await using var writer = new TableDataWriter(Table);
        await writer.WriteAsync(Batch(ids.ToList(), partitions));
        return await writer.CompleteAsync();
    }

    /// <summary>An equality delete file of ids in one partition.</summary>
    public async Task<DataFile> EqualityDeletesAsync(PartitionData partition, params long[] ids)
    {
        var schema = new IcebergSchema(0, [NestedField.Require(1, "id", PrimitiveType.Long)]);
        await using var writer = new DataFileWriter(Table.Store, Table.TableKey + "/data/deletes", schema);
        await writer.WriteAsync(new RecordBatch(ArrowSchemaMapping.ToArrow(schema), [ArrowColumns.Longs(ids.Select(i => (long?)i).ToArray())], ids.Length));
        var written = Assert.Single(await writer.CompleteAsync());
        return new DataFile
        {
            Content = FileContent.EqualityDeletes,
            FilePath = Table.LocationOf(written.Key),
            SpecId = Table.Spec.SpecId,
            Partition = partition,
            RecordCount = written.RecordCount,
            FileSizeInBytes = written.FileSizeInBytes,
            EqualityIds = [1],
        };
    }

    /// <summary>The ids of a snapshot (the current one by default) as the table library reads them, deletes applied, sorted.</summary>
    public async Task<List<long>> IdsAsync(long? snapshotId = null, string? reference = null)
    {
        var scan = Table.NewScan();
        if (snapshotId is { } id) scan.UseSnapshot(id);
        if (reference is not null) scan.UseRef(reference);
        var ids = new List<long>();
        foreach (var task in await scan.PlanFilesAsync())
            await foreach (var batch in ScanTaskReader.ReadAsync(Table, task))
                using (batch)
                    ids.AddRange(((Int64Array)batch.Column("id")).Values.ToArray());
        ids.Sort();
        return ids;
    }

    /// <summary>Every file of the table's folder, as keys relative to the store.</summary>
    public List<string> Files() => Directory.Exists(Folder)
        ? Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_dir.FullName, f).Replace('\\', '/')).Order().ToList()
        : [];

    public bool Exists(string location) => File.Exists(new Uri(location).LocalPath);

    /// <summary>Data and delete files the snapshot reads.</summary>
    public async Task<List<string>> LiveFilesAsync(long snapshotId)
    {
        var tasks = await Table.NewScan().UseSnapshot(snapshotId).PlanFilesAsync();
        return tasks.Select(t => t.File.FilePath).Concat(tasks.SelectMany(t => t.DeleteFiles).Select(d => d.FilePath)).Distinct().ToList();
    }

    public static IEnumerable<long> Range(long first, int count) => Enumerable.Range(0, count).Select(i => first + i);

    public void Dispose()
    {
        Store.Dispose();
        try { _dir.Delete(recursive: true); } catch (IOException) { }
    }
}
