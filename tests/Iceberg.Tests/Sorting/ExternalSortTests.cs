using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Tests.Sorting;

/// <summary>The external sort gives every row back in order, in memory or through spilled runs, merged in more than one
/// pass when there are more runs than it merges at once, and leaves no run file behind.</summary>
public sealed class ExternalSortTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0, [NestedField.Optional(1, "k", PrimitiveType.Long), NestedField.Optional(2, "v", PrimitiveType.String)]);
    private readonly DirectoryInfo _spill = Directory.CreateTempSubdirectory("external-sort-");

    public void Dispose() => _spill.Delete(recursive: true);

    [Theory]
    [InlineData(long.MaxValue, 40, 0, 0)] // in memory
    [InlineData(4_000, 40, 5, 20)] // a batch is about 800 bytes: a run every few batches
    [InlineData(1, 150, 151, 160)] // a run per batch, more than are merged at once: runs merged into longer runs first
    public async Task Every_row_comes_back_in_order(long memoryBytes, int batches, int minRuns, int maxRuns)
    {
        var random = new Random(3);
        var keys = new SortKeys(RowOrder.Parse("k DESC NULLS LAST", Schema), Schema);
        var expected = new List<long?>();
        var sort = new ExternalSort(keys, memoryBytes, _spill.FullName);
        using (sort)
        {
            for (int b = 0; b < batches; b++)
            {
                var k = Enumerable.Range(0, 50).Select(_ => random.Next(20) == 0 ? (long?)null : random.Next(1000)).ToArray();
                expected.AddRange(k);
                await sort.AddAsync(new RecordBatch(ArrowSchemaMapping.ToArrow(Schema), [ArrowColumns.Longs(k), ArrowColumns.Strings(k.Select(x => $"v{x}").ToArray())], k.Length), default);
            }
            var actual = new List<long?>();
            await foreach (var batch in sort.SortedAsync(default))
                using (batch)
                {
                    Assert.InRange(batch.Length, 1, ExternalSort.OutputRows);
                    var k = (Int64Array)batch.Column(0);
                    var v = (StringArray)batch.Column(1);
                    for (int i = 0; i < batch.Length; i++)
                    {
                        actual.Add(k.GetValue(i));
                        Assert.Equal($"v{k.GetValue(i)}", v.GetString(i)); // rows stay whole
                    }
                }
            Assert.Equal(expected.OrderByDescending(x => x ?? long.MinValue), actual);
            Assert.InRange(sort.RunsSpilled, minRuns, maxRuns);
        }
        Assert.Empty(_spill.EnumerateFileSystemInfos());
    }
}
