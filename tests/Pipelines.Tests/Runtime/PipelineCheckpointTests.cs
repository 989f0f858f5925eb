using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.State;
using DataPlane.Storage;
using Xunit;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// A statement's checkpoint in a files sink's folder on a real local store: a folder per commit with a file per shard and
/// the main file, which restores with another shard count (and spilled past a small budget); and a checkpoint in one
/// file, as pipelines wrote them before checkpoint folders, still restores.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class PipelineCheckpointTests : IDisposable
{
    private const long Start = 1_767_225_600_000_000; // 2026-01-01 00:00:00
    private const string Sql = "WATERMARK FOR input.ts AS ts - INTERVAL '1' SECOND;\n" +
        "INSERT INTO out SELECT window_start, k, count(*) AS n, sum(v) AS s FROM input GROUP BY tumble(INTERVAL '1' HOUR), k";

    private static readonly ArrowSchema Input = new([new Field("ts", new TimestampType(TimeUnit.Microsecond, (string?)null), false),
        new Field("k", Int64Type.Default, false), new Field("v", Int64Type.Default, false)], null);

    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-checkpoint-").FullName;
    private readonly IObjectStore _store;
    private readonly FileSinkTarget _target;

    public PipelineCheckpointTests()
    {
        _store = ObjectStore.Open(Path.Combine(_dir, "warehouse"));
        _target = new FileSinkTarget(_store, "raw/out", new IcebergSchema([new NestedField(1, "k", true, PrimitiveType.Long)]));
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static readonly string Fingerprint = CheckpointHeader.Fingerprint(Sql);

    /// <summary>An execution of the statement that adds each output row's key and count to <paramref name="rows"/>.</summary>
    private SqlExecution Execution(Dictionary<long, long> rows, StateOptions state) =>
        SqlProgram.Compile(Sql, new Dictionary<string, ArrowSchema> { ["input"] = Input }, SqlMode.Streaming).Start(0, b =>
        {
            var keys = (Int64Array)b.Column(1);
            var counts = (Int64Array)b.Column(2);
            for (int i = 0; i < b.Length; i++) rows.Add(keys.GetValue(i)!.Value, counts.GetValue(i)!.Value);
        }, () => Start, state with { SpillDirectory = Path.Combine(_dir, "spill") });

    /// <summary>Keys <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1, once each, in the first hour.</summary>
    private static RecordBatch Keys(long first, int count)
    {
        var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, (string?)null));
        var ks = new Int64Array.Builder();
        var vs = new Int64Array.Builder();
        for (int i = 0; i < count; i++)
        {
            ts.Append(DateTimeOffset.UnixEpoch.AddTicks((Start + i) * 10));
            ks.Append(first + i);
            vs.Append(1);
        }
        return new RecordBatch(Input, [ts.Build(), ks.Build(), vs.Build()], count);
    }

    [Fact]
    public async Task A_checkpoint_is_a_folder_with_a_file_per_shard_that_restores_with_another_shard_count_past_a_small_budget()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "spill"));
        var journal = new UncommittedFileJournal(Path.Combine(_dir, "p.files"));
        journal.Reset(_target.Identity!);
        var four = new StateOptions { Shards = 4, MemoryBytes = 64 * 1024 };
        var rows = new Dictionary<long, long>();
        (string Key, long Bytes) checkpoint;
        using (var execution = Execution(rows, four))
        {
            for (int b = 0; b < 10; b++) execution.Push("input", Keys(b * 2_000, 2_000));
            Assert.True(execution.StateMemoryUse.RunsSpilled > 4);
            checkpoint = await PipelineCheckpoint.WriteAsync(_target, journal, execution, 20_000, Fingerprint, long.MaxValue, _ => new InvalidOperationException(), default);
        }
        Assert.EndsWith("/", checkpoint.Key);
        var files = new List<ObjectInfo>();
        await foreach (var info in _store.ListAsync(checkpoint.Key)) files.Add(info);
        Assert.Equal([PipelineCheckpoint.MainFile, .. Enumerable.Range(0, 4).Select(PipelineCheckpoint.ShardFile)],
            files.Select(f => f.Key[checkpoint.Key.Length..]).Order(StringComparer.Ordinal));
        Assert.Equal(files.Sum(f => f.Size), checkpoint.Bytes);
        // Each file was recorded in the journal before it was written.
        Assert.Equal(files.Select(f => f.Key).Order(StringComparer.Ordinal), journal.Read().Keys.Order(StringComparer.Ordinal));
        // The keys are spread over the shards (a shard's groups alone are a fraction of the state).
        Assert.All(files.Where(f => f.Key.EndsWith(PipelineCheckpoint.ShardFile(0), StringComparison.Ordinal)), f => Assert.InRange(f.Size, checkpoint.Bytes / 8, checkpoint.Bytes / 2));

        // Restored with three shards, spilling again: the keys go on from where they were, each counted twice in the end.
        using (var restored = Execution(rows, four with { Shards = 3 }))
        {
            Assert.Equal(checkpoint.Bytes, await PipelineCheckpoint.RestoreAsync(_target, restored, checkpoint.Key, Fingerprint, default));
            for (int b = 0; b < 10; b++) restored.Push("input", Keys(b * 2_000, 2_000));
            restored.Finish();
            Assert.True(restored.StateMemoryUse.RunsSpilled > 0);
        }
        Assert.Equal(20_000, rows.Count);
        Assert.All(rows.Values, n => Assert.Equal(2, n));

        // Another statement's state is refused; a shard file that is gone fails the restore.
        using (var other = Execution(new(), four))
            await Assert.ThrowsAsync<InvalidDataException>(() => PipelineCheckpoint.RestoreAsync(_target, other, checkpoint.Key, CheckpointHeader.Fingerprint("other"), default));
        await _store.DeleteAsync(checkpoint.Key + PipelineCheckpoint.ShardFile(2));
        using (var broken = Execution(new(), four))
            await Assert.ThrowsAsync<ObjectNotFoundException>(() => PipelineCheckpoint.RestoreAsync(_target, broken, checkpoint.Key, Fingerprint, default));
    }

    [Fact]
    public async Task A_checkpoint_in_one_file_as_written_before_checkpoint_folders_is_restored()
    {
        var rows = new Dictionary<long, long>();
        var old = new MemoryStream();
        using (var execution = Execution(rows, new StateOptions { Shards = 2 }))
        {
            execution.Push("input", Keys(0, 1_000));
            // The form before: the header's version 1 (magic, version, SQL fingerprint), then the engine's state in one stream.
            using (var writer = new BinaryWriter(old, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write("DPCHECKPOINT");
                writer.Write(1);
                writer.Write(Fingerprint);
            }
            execution.SaveState(old);
        }
        const string Key = "raw/out/_dataplane/checkpoints/00000000000000001000-0123456789abcdef0123456789abcdef.state";
        await _store.PutNewAsync(Key, old.ToArray());

        using (var restored = Execution(rows, new StateOptions { Shards = 3 }))
        {
            Assert.Equal(old.Length, await PipelineCheckpoint.RestoreAsync(_target, restored, Key, Fingerprint, default));
            restored.Push("input", Keys(0, 1_000));
            restored.Finish();
        }
        Assert.Equal(1_000, rows.Count);
        Assert.All(rows.Values, n => Assert.Equal(2, n));
    }

    /// <summary>
    /// The state of far more keys than a small budget, spilled, checkpointed into a real store whose streams note the live
    /// heap every 256 KiB written: it stays within a bound of what it was before, whatever the state's size (a
    /// checkpoint built in memory holds all of it, and more while its buffer doubles).
    /// </summary>
    [Fact]
    public async Task A_checkpoint_of_state_far_over_a_small_budget_holds_a_buffer_in_memory_not_the_state()
    {
        using var store = new LiveHeapStore(ObjectStore.Open(Path.Combine(_dir, "probed")), 256 * 1024);
        var target = new FileSinkTarget(store, "raw/out", new IcebergSchema([new NestedField(1, "k", true, PrimitiveType.Long)]));
        var journal = new UncommittedFileJournal(Path.Combine(_dir, "probed.files"));
        journal.Reset(target.Identity!);
        using var execution = Execution(new(), new StateOptions { Shards = 2, MemoryBytes = 512 * 1024 });
        for (int b = 0; b < 40; b++) execution.Push("input", Keys(b * 10_000, 10_000));
        Assert.True(execution.StateMemoryUse.RunsSpilled > 10, $"{execution.StateMemoryUse.RunsSpilled} runs spilled");

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var (_, bytes) = await PipelineCheckpoint.WriteAsync(target, journal, execution, 400_000, Fingerprint, long.MaxValue, _ => new InvalidOperationException(), default);
        long grown = store.MostLive - before;
        Assert.True(bytes > 12 * 1024 * 1024, $"{bytes:N0} bytes of state written");
        Assert.Equal(bytes, store.Written); // all of it streamed, none put whole
        // What a checkpoint holds: the merge's batch of each spilled run (at most 64 runs of 1,024 rows), a batch of merged
        // groups, the write buffers; a checkpoint built in memory would hold all of the state, 12 MB and more.
        Assert.True(grown < 10 * 1024 * 1024, $"the live heap grew by {grown:N0} bytes while {bytes:N0} bytes of state were written");
    }
}
