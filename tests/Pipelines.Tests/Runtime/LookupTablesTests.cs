using Apache.Arrow;
using DataPlane.Pipelines.Lookups;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// How a run's lookup tables reload between batches: a reload that does not finish within the wait leaves the batch
/// with the rows in hand (the stream is not held up by a slow table), and a later batch takes the new rows once read.
/// </summary>
public sealed class LookupTablesTests
{
    private static readonly Schema Columns = new([new Field("id", Apache.Arrow.Types.Int64Type.Default, true)], null);

    private static RecordBatch Rows(params long[] ids) => new(Columns, [new Int64Array.Builder().AppendRange(ids).Build()], ids.Length);

    /// <summary>A table whose loads finish when the test says so.</summary>
    private sealed class SlowTable : ILookupSource
    {
        public TaskCompletionSource<LookupLoad?> Next { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Loads { get; private set; }
        public string Name => "crm.customers";
        public Task<Schema> SchemaAsync(CancellationToken cancellationToken) => Task.FromResult(Columns);

        public Task<LookupLoad?> LoadIfChangedAsync(Schema schema, string? loaded, CancellationToken cancellationToken)
        {
            Loads++;
            return Next.Task;
        }
    }

    [Fact]
    public async Task A_slow_reload_leaves_the_batch_with_the_rows_in_hand_and_a_later_batch_takes_the_new_rows()
    {
        var table = new SlowTable();
        var tables = new LookupTables([(table, Columns)], interval: TimeSpan.Zero, wait: TimeSpan.FromMilliseconds(1));
        table.Next.SetResult(new LookupLoad(Rows(1, 2), "1", "catalog"));
        await tables.LoadAsync(CancellationToken.None);
        Assert.Equal(2, tables.Rows("crm.customers").Length);

        table.Next = new(TaskCreationOptions.RunContinuationsAsynchronously); // the reload hangs
        await tables.RefreshAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, tables.Rows("crm.customers").Length);
        await tables.RefreshAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(2, table.Loads); // still the one reload under way: no second one piles up

        table.Next.SetResult(new LookupLoad(Rows(1, 2, 3), "2", "catalog"));
        await tables.RefreshAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(3, tables.Rows("crm.customers").Length);
    }
}
