using Apache.Arrow;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Storage;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// Another writer of a sink's table, as a user's engine would be: the table library over the server's Iceberg REST
/// catalog (<see cref="RestTableCommitter"/>), writing its own Parquet files into the table's <c>data/</c> folder.
/// Rows have an <c>id</c> and <c>user</c> = "outside".
/// </summary>
internal sealed class OutsideWriter : IDisposable
{
    private readonly IcebergRestClient _client;

    private OutsideWriter(IcebergRestClient client, Table table)
    {
        _client = client;
        Table = table;
    }

    public Table Table { get; }

    public static async Task<OutsideWriter> OpenAsync(Uri server, IObjectStore warehouse, string ns = "default", string name = "events")
    {
        var client = new IcebergRestClient(new Uri(server, "iceberg"));
        await client.InitializeAsync();
        var table = await Table.LoadAsync(warehouse, new RestTableCommitter(client, [ns], name));
        return new OutsideWriter(client, table);
    }

    /// <summary>Writes the rows as data files of the table, without committing them (a Spark task's output before its job commits).</summary>
    public async Task<IReadOnlyList<DataFile>> WriteAsync(IEnumerable<long> ids)
    {
        await Table.RefreshAsync();
        await using var writer = new TableDataWriter(Table);
        await writer.WriteAsync(Batch(ids.ToList()));
        return await writer.CompleteAsync();
    }

    /// <summary>Writes the rows and commits them as one append to <paramref name="branch"/>.</summary>
    public async Task<Snapshot> AppendAsync(IEnumerable<long> ids, string branch = SnapshotRef.MainBranch)
    {
        var files = await WriteAsync(ids);
        return await Table.AppendAsync(files, branch: branch);
    }

    private RecordBatch Batch(IReadOnlyList<long> ids)
    {
        var schema = ArrowSchemaMapping.ToArrow(Table.Schema);
        var columns = new List<IArrowArray>();
        foreach (var field in schema.FieldsList)
        {
            switch (field.Name)
            {
                case "id":
                    columns.Add(new Int64Array.Builder().AppendRange(ids).Build());
                    break;
                case "user":
                    var users = new StringArray.Builder();
                    foreach (var _ in ids) users.Append("outside");
                    columns.Add(users.Build());
                    break;
                default:
                    throw new NotSupportedException($"The outside writer fills id and user, not {field.Name}.");
            }
        }
        return new RecordBatch(schema, columns, ids.Count);
    }

    public void Dispose() => _client.Dispose();
}
