using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using Xunit;
using static DataPlane.TestServices.ArrowColumns;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Tests.DataFiles;

/// <summary>
/// Native Parquet code calls back into the managed stream it reads (Read, Seek, Close): a scan over many files in one
/// process, with collections in between, must not leave native code holding a delegate the GC has collected (which
/// ended the process with "callback on garbage collected delegate" or an access violation).
/// </summary>
public sealed class DataFileReaderLifetimeTests : IDisposable
{
    private const int Files = 400, RowsPerFile = 10;

    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "name", PrimitiveType.String),
    ]);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "dp-reader-lifetime-" + Guid.NewGuid().ToString("N"));
    private readonly IObjectStore _store;

    public DataFileReaderLifetimeTests()
    {
        Directory.CreateDirectory(_root);
        _store = ObjectStore.Open(_root);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Hundreds_of_files_read_in_one_process_with_collections_between_reads_return_every_row()
    {
        var keys = new List<string>();
        for (int f = 0; f < Files; f++)
        {
            var ids = Enumerable.Range(f * RowsPerFile, RowsPerFile).Select(i => (long?)i).ToArray();
            var batch = new RecordBatch(ArrowSchemaMapping.ToArrow(Schema), [Longs(ids), Strings(ids.Select(i => (string?)("n" + i)).ToArray())], ids.Length);
            await using var writer = new DataFileWriter(_store, "t/data", Schema);
            await writer.WriteAsync(batch);
            keys.Add(Assert.Single(await writer.CompleteAsync()).Key);
        }

        var read = new List<long>();
        foreach (var key in keys)
        {
            await foreach (var batch in DataFileReader.ReadAsync(_store, key, Schema))
            {
                using (batch)
                    read.AddRange(((Int64Array)batch.Column("id")).Values.ToArray());
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        Assert.Equal(Enumerable.Range(0, Files * RowsPerFile).Select(i => (long)i), read);
    }
}
