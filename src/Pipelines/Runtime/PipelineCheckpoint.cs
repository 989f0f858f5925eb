using System.Globalization;
using DataPlane.Pipelines.Sinks;
using DataPlane.SqlTransforms;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// A statement's operator state as checkpoint files beside its sink's output, one folder per commit (the key
/// <see cref="ISinkTarget.NewCheckpointKey"/> gives, named by the end offset and a random part, never written twice):
/// <c>shard-NNNN.state</c> for each shard of the keyed state (the groups of tumble and hop windows, by key hash), then
/// <c>checkpoint.state</c>: the header (<see cref="CheckpointHeader"/>, with each shard file's size) and the rest of the
/// state (watermarks, panes, windows without shards). The commit names the folder, in the same snapshot summary as the
/// offsets. Each file is streamed to the store as the engine writes it, spilled runs merged from local disk a batch at
/// a time, and read back streamed, so a checkpoint holds a buffer and a batch in memory, never the state.
/// <para>
/// A restore reads the main file, then every shard file, each key going to its shard here: another shard count
/// redistributes the keys. A checkpoint written before shard files (one file, which the commit names) is read too.
/// </para>
/// </summary>
internal static class PipelineCheckpoint
{
    public const string MainFile = "checkpoint.state";

    /// <summary>What is buffered between the engine's small writes and reads and the store's stream.</summary>
    private const int BufferBytes = 1 << 16;

    public static string ShardFile(int shard) => string.Create(CultureInfo.InvariantCulture, $"shard-{shard:D4}.state");

    /// <summary>
    /// Writes the statement's state at <paramref name="endOffset"/> as a new checkpoint folder, each file recorded in the
    /// sink's journal before it is created (so a restart removes those of a commit that did not land, and orphan removal
    /// keeps them meanwhile). Answers the folder's key and the bytes written. Past <paramref name="maxBytes"/> it stops
    /// with <paramref name="overBudget"/>'s exception (the files written so far are recorded, hence removed on restart).
    /// <paramref name="folder"/>: where, ending in <c>/</c> (default: a new folder of the target's).
    /// </summary>
    public static async Task<(string Key, long Bytes)> WriteAsync(ISinkTarget target, UncommittedFileJournal journal, SqlExecution execution, long endOffset,
        string fingerprint, long maxBytes, Func<long, Exception> overBudget, CancellationToken cancellationToken, string? folder = null)
    {
        folder ??= target.NewCheckpointKey(endOffset);
        var sizes = new long[execution.StateShards];
        long total = 0;
        for (int s = 0; s < sizes.Length; s++)
        {
            int shard = s;
            sizes[s] = await WriteFileAsync(target, journal, folder + ShardFile(s), stream => execution.SaveShard(shard, stream), cancellationToken);
            total += sizes[s];
            if (total > maxBytes)
                throw overBudget(total);
        }
        total += await WriteFileAsync(target, journal, folder + MainFile, stream =>
        {
            CheckpointHeader.Write(stream, fingerprint, sizes);
            execution.SaveStateApart(stream);
        }, cancellationToken);
        if (total > maxBytes)
            throw overBudget(total);
        return (folder, total);
    }

    private static async Task<long> WriteFileAsync(ISinkTarget target, UncommittedFileJournal journal, string key, Action<Stream> write, CancellationToken cancellationToken)
    {
        await journal.RecordAsync(key, cancellationToken);
        // Abandoned unless completed: a failed write leaves no object under the key.
        await using var file = await target.OpenCheckpointAsync(key, cancellationToken);
        // Not disposed: that would dispose (abandon) the store's stream; flushed into it instead.
        var buffered = new BufferedStream(file, BufferBytes);
        write(buffered);
        buffered.Flush();
        return (await file.CompleteAsync(cancellationToken)).Size;
    }

    /// <summary>
    /// Restores <paramref name="execution"/> (not started) from the checkpoint a commit names: a folder's files, or a
    /// checkpoint in one file. Answers its bytes. <see cref="InvalidDataException"/> when it is not this statement's state;
    /// <see cref="Storage.ObjectNotFoundException"/> when a file of it is gone.
    /// </summary>
    public static async Task<long> RestoreAsync(ISinkTarget target, SqlExecution execution, string checkpoint, string fingerprint, CancellationToken cancellationToken)
    {
        bool folder = checkpoint.EndsWith('/');
        long[]? sizes;
        long bytes;
        await using (var main = await target.ReadCheckpointAsync(folder ? checkpoint + MainFile : checkpoint, cancellationToken))
        {
            var buffered = new BufferedStream(main, BufferBytes);
            sizes = CheckpointHeader.Read(buffered, fingerprint);
            if (sizes is null == folder)
                throw new InvalidDataException(folder ? "its main file is of a checkpoint in one file" : "it is the main file of a checkpoint folder, named alone");
            int shards = execution.RestoreState(buffered);
            if (shards != (sizes?.Length ?? 0))
                throw new InvalidDataException($"its header names {sizes?.Length ?? 0} shard files and its state {shards} shards");
            bytes = main.Length;
        }
        for (int s = 0; s < (sizes?.Length ?? 0); s++)
        {
            await using var file = await target.ReadCheckpointAsync(checkpoint + ShardFile(s), cancellationToken);
            if (file.Length != sizes![s])
                throw new InvalidDataException($"its {ShardFile(s)} has {file.Length:N0} bytes, where its main file says {sizes[s]:N0}");
            execution.RestoreShard(new BufferedStream(file, BufferBytes));
            bytes += file.Length;
        }
        return bytes;
    }
}
