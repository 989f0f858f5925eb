using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.DataFiles;

/// <summary>decimal(38,10) values beyond System.Decimal's 28 digits go through the writer, metrics, partition
/// transforms, scan pruning and both readers (DuckDB and ours) unchanged.</summary>
public sealed class DecimalPrecisionTests : IDisposable
{
    private static readonly DecimalType Big = PrimitiveType.Decimal(38, 10);

    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "big", Big),
        NestedField.Optional(3, "mid", PrimitiveType.Decimal(18, 4)),
        NestedField.Optional(4, "small", PrimitiveType.Decimal(9, 2)),
    ]);

    // Every big value has more than 28 significant digits except the small ones that share buckets with them.
    private static readonly string?[] BigValues =
    [
        "9999999999999999999999999999.9999999999",
        "-9999999999999999999999999999.9998000001",
        "1234567890123456789012345678.9012345678",
        "-1234567890123456789012345678.9012345678",
        "0.0000000001",
        null,
        "4242424242424242424242424242.4242424242",
        "-0.0000000001",
    ];

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-decimal");
    private readonly IObjectStore _store;

    public DecimalPrecisionTests() => _store = ObjectStore.Open(_dir.FullName);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    private static RecordBatch Batch()
    {
        var arrow = ArrowSchemaMapping.ToArrow(Schema);
        int n = BigValues.Length;
        return new RecordBatch(arrow,
        [
            ArrowColumns.Longs(Enumerable.Range(0, n).Select(i => (long?)i).ToArray()),
            ArrowColumns.Decimals((Decimal128Type)arrow.FieldsList[1].DataType, BigValues),
            ArrowColumns.Decimals((Decimal128Type)arrow.FieldsList[2].DataType, Enumerable.Range(0, n).Select(i => (string?)$"{i + 1}9999999999999.{i}").ToArray()),
            ArrowColumns.Decimals((Decimal128Type)arrow.FieldsList[3].DataType, Enumerable.Range(0, n).Select(i => (string?)$"-{i + 1}234567.8{i}").ToArray()),
        ], n);
    }

    private string LocalPath(string location) => Path.Combine(_dir.FullName, location[_store.Location.ToString().Length..]);

    private static string Expected(string? value) => value is null ? "NULL" : DecimalValue.Parse(value).Rescale(10).ToString();

    [Fact]
    public async Task A_38_digit_decimal_column_is_written_bounded_partitioned_and_read_back_exactly()
    {
        var committer = new FileTableCommitter(_store, "db/money");
        var spec = PartitionSpec.BuilderFor(Schema).Bucket("big", 4).Build();
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        await TableBatches.AppendAsync(table, [Batch()]);

        var tasks = await table.NewScan().PlanFilesAsync();
        Assert.True(tasks.Count > 1, "the values should spread over several buckets");
        var seen = new List<(long Id, string Big)>();
        foreach (var task in tasks)
        {
            var path = DuckDbQuery.Literal(LocalPath(task.File.FilePath));
            var types = DuckDbQuery.Rows($"SELECT name, type, type_length FROM parquet_schema({path})").ToDictionary(r => r[0], r => r);
            Assert.Equal(["FIXED_LEN_BYTE_ARRAY", "16"], types["big"][1..]);
            Assert.Equal("INT64", types["mid"][1]);
            Assert.Equal("INT32", types["small"][1]);

            var rows = DuckDbQuery.Rows($"SELECT id, CAST(big AS VARCHAR), CAST(mid AS VARCHAR), CAST(small AS VARCHAR) FROM read_parquet({path}) ORDER BY id");
            var values = new List<DecimalValue>();
            foreach (var r in rows)
            {
                int id = int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(Expected(BigValues[id]), r[1]);
                Assert.Equal($"{id + 1}9999999999999.{id}000", r[2]);
                Assert.Equal($"-{id + 1}234567.8{id}", r[3]);
                seen.Add((id, r[1]));
                if (BigValues[id] is { } v) values.Add(DecimalValue.Parse(v));
                // The file's partition is the bucket of every value in it, hashed from the 38-digit unscaled value.
                Assert.Equal(BigValues[id] is { } b ? Transform.Bucket(4).Apply(Big, DecimalValue.Parse(b)) : null, task.File.Partition[0]);
            }
            if (values.Count > 0)
            {
                Assert.Equal(values.Min().Rescale(10).ToBigEndianBytes(), task.File.LowerBounds![2]);
                Assert.Equal(values.Max().Rescale(10).ToBigEndianBytes(), task.File.UpperBounds![2]);
            }
        }
        Assert.Equal(Enumerable.Range(0, BigValues.Length).Select(i => Expected(BigValues[i])), seen.OrderBy(s => s.Id).Select(s => s.Big));

        // Our reader returns the same unscaled values.
        var read = new List<(long, string)>();
        foreach (var task in tasks)
            await foreach (var batch in DataFileReader.ReadAsync(_store, table.KeyOf(task.File.FilePath), table.Schema))
                using (batch)
                {
                    var ids = (Int64Array)batch.Column("id");
                    var big = (Decimal128Array)batch.Column("big");
                    for (int i = 0; i < batch.Length; i++)
                        read.Add((ids.Values[i], big.IsNull(i) ? "NULL"
                            : new DecimalValue(BinaryPrimitives.ReadInt128LittleEndian(big.ValueBuffer.Span.Slice((big.Offset + i) * 16, 16)), 10).ToString()));
                }
        Assert.Equal(Enumerable.Range(0, BigValues.Length).Select(i => Expected(BigValues[i])), read.OrderBy(r => r.Item1).Select(r => r.Item2));

        // A predicate on a 38-digit literal prunes by bucket and by the bounds.
        var hit = await table.NewScan().Filter(Expression.Equal("big", DecimalValue.Parse("4242424242424242424242424242.4242424242"))).PlanFilesAsync();
        var only = Assert.Single(hit);
        Assert.Equal(Transform.Bucket(4).Apply(Big, DecimalValue.Parse("4242424242424242424242424242.4242424242")), only.File.Partition[0]);
        var above = await table.NewScan().Filter(Expression.GreaterThan("big", DecimalValue.Parse("9999999999999999999999999999.9999999998"))).PlanFilesAsync();
        Assert.Equal(Transform.Bucket(4).Apply(Big, DecimalValue.Parse("9999999999999999999999999999.9999999999")), Assert.Single(above).File.Partition[0]);
    }

    [Fact]
    public async Task Truncate_partitions_a_38_digit_decimal_on_its_unscaled_value()
    {
        var committer = new FileTableCommitter(_store, "db/trunc");
        var spec = PartitionSpec.BuilderFor(Schema).Truncate("big", 1_000_000).Build();
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        await TableBatches.AppendAsync(table, [Batch()]);

        var partitions = (await table.NewScan().PlanFilesAsync()).Select(t => t.File.Partition[0]?.ToString() ?? "null").Order().ToList();
        // truncate[W] of v is v - (((v % W) + W) % W) on the unscaled value: 10^-4 steps at scale 10, floored toward
        // -inf (expected values computed with Python integers).
        Assert.Equal(new[]
        {
            "9999999999999999999999999999.9999000000", "-9999999999999999999999999999.9999000000",
            "1234567890123456789012345678.9012000000", "-1234567890123456789012345678.9013000000", "0.0000000000",
            "null", "4242424242424242424242424242.4242000000", "-0.0001000000",
        }.Order(), partitions);
    }
}
