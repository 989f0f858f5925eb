using DataPlane.SqlTransforms.EventTime;
using DataPlane.SqlTransforms.Execution.Operators;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// The snapshot of a running execution: a header (format, the sources and the number of stateful operators, so a
/// snapshot of another program is refused), each source's watermark with its partitions, then each stateful
/// operator's state in the order the program builds them. Keys are written as bytes, values unboxed.
/// <para>
/// Two forms. In one stream (<see cref="Write"/>, format 1), everything. With the shards apart (<see cref="WriteApart"/>,
/// format 2), the stream holds all but the keyed groups of sharded operators (<see cref="IShardedOperator"/>: tumble and hop panes, sessions, top-N and join rows, updating aggregates' keys), which go into one
/// stream per shard (<see cref="WriteShard"/>): a checkpoint writes each to its own file, one after the other, so what it
/// holds at once is a buffer, never the state; a restore reads the main stream, then each shard's stream in any order,
/// redistributing the keys when the shard count differs.
/// </para>
/// </summary>
internal static class ExecutionState
{
    private const int Format = 1;
    private const int ApartFormat = 2;
    private const string Magic = "DPSQLSTATE";
    private const string ShardMagic = "DPSQLSHARD";

    /// <summary>Writes the snapshot; answers each operator's share of it in bytes.</summary>
    public static long[] Write(Stream stream, IReadOnlyDictionary<string, WatermarkTracker> trackers, IReadOnlyList<IStatefulOperator> operators) =>
        WriteMain(stream, trackers, operators, shards: 0);

    /// <summary>Writes the snapshot but the shards' groups, which <see cref="WriteShard"/> writes, <paramref name="shards"/> of them; answers each operator's share.</summary>
    public static long[] WriteApart(Stream stream, int shards, IReadOnlyDictionary<string, WatermarkTracker> trackers, IReadOnlyList<IStatefulOperator> operators) =>
        WriteMain(stream, trackers, operators, shards);

    private static long[] WriteMain(Stream stream, IReadOnlyDictionary<string, WatermarkTracker> trackers, IReadOnlyList<IStatefulOperator> operators, int shards)
    {
        var sizes = new long[operators.Count];
        var counted = new CountedStream(stream);
        using var writer = new BinaryWriter(counted, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(shards > 0 ? ApartFormat : Format);
        if (shards > 0) writer.Write(shards);
        writer.Write(trackers.Count);
        foreach (var (source, tracker) in trackers.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            writer.Write(source);
            tracker.Write(writer);
        }
        writer.Write(operators.Count);
        for (int i = 0; i < operators.Count; i++)
        {
            var op = operators[i];
            writer.Write(op.GetType().Name);
            writer.Flush();
            long before = counted.Count;
            if (shards > 0 && op is IShardedOperator sharded) sharded.WriteStateApart(writer);
            else op.WriteState(writer);
            writer.Flush();
            sizes[i] = counted.Count - before;
        }
        return sizes;
    }

    /// <summary>Writes shard <paramref name="shard"/> of <paramref name="shards"/>: each sharded operator's groups of that shard; answers each operator's share.</summary>
    public static long[] WriteShard(Stream stream, int shard, int shards, IReadOnlyList<IStatefulOperator> operators)
    {
        var sizes = new long[operators.Count];
        var counted = new CountedStream(stream);
        using var writer = new BinaryWriter(counted, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(ShardMagic);
        writer.Write(Format);
        writer.Write(shard);
        writer.Write(shards);
        writer.Write(operators.Count);
        for (int i = 0; i < operators.Count; i++)
        {
            if (operators[i] is not IShardedOperator sharded) continue;
            writer.Write(i);
            writer.Flush();
            long before = counted.Count;
            sharded.WriteShard(writer, shard);
            writer.Flush();
            sizes[i] = counted.Count - before;
        }
        writer.Write(-1);
        return sizes;
    }

    /// <summary>
    /// Reads a snapshot into the operators; answers each one's share of it in bytes, and the number of shard streams that
    /// must follow (<see cref="ReadShard"/>; 0 for a snapshot in one stream).
    /// </summary>
    public static (long[] Sizes, int Shards) Read(Stream stream, IReadOnlyDictionary<string, WatermarkTracker> trackers, IReadOnlyList<IStatefulOperator> operators)
    {
        var sizes = new long[operators.Count];
        var counted = new CountedStream(stream);
        using var reader = new BinaryReader(counted, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("not a state snapshot of the SQL engine");
            int format = reader.ReadInt32();
            if (format is not (Format or ApartFormat)) throw new InvalidDataException($"a state snapshot of format {format}, which this version of the SQL engine does not read");
            int shards = format == ApartFormat ? reader.ReadInt32() : 0;
            if (format == ApartFormat && shards < 1) throw new InvalidDataException($"the snapshot has {shards} shards");
            int sources = reader.ReadInt32();
            if (sources != trackers.Count) throw new InvalidDataException($"the snapshot has {sources} sources; the program has {trackers.Count}");
            for (int i = 0; i < sources; i++)
            {
                string source = reader.ReadString();
                if (!trackers.TryGetValue(source, out var tracker)) throw new InvalidDataException($"the snapshot has a source \"{source}\" the program does not have");
                tracker.Read(reader);
            }
            int count = reader.ReadInt32();
            if (count != operators.Count) throw new InvalidDataException($"the snapshot has {count} stateful operators; the program has {operators.Count}");
            for (int i = 0; i < operators.Count; i++)
            {
                var op = operators[i];
                string kind = reader.ReadString();
                if (kind != op.GetType().Name) throw new InvalidDataException($"the snapshot has a {kind} where the program has a {op.GetType().Name}");
                long before = counted.Count;
                op.ReadState(reader);
                sizes[i] = counted.Count - before;
            }
            return (sizes, shards);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the state snapshot is cut short", e);
        }
    }

    /// <summary>
    /// Reads one shard stream of a snapshot whose main stream said <paramref name="shards"/>, into the operators (each key
    /// into its shard here); answers its shard number and each operator's share of it in bytes.
    /// </summary>
    public static (int Shard, long[] Sizes) ReadShard(Stream stream, int shards, IReadOnlyList<IStatefulOperator> operators)
    {
        var sizes = new long[operators.Count];
        var counted = new CountedStream(stream);
        using var reader = new BinaryReader(counted, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (reader.ReadString() != ShardMagic || reader.ReadInt32() != Format) throw new InvalidDataException("not a shard of a state snapshot of this version of the SQL engine");
            int shard = reader.ReadInt32();
            int of = reader.ReadInt32();
            if (of != shards || shard < 0 || shard >= shards) throw new InvalidDataException($"shard {shard} of {of}, in a snapshot of {shards} shards");
            int count = reader.ReadInt32();
            if (count != operators.Count) throw new InvalidDataException($"the shard has {count} stateful operators; the program has {operators.Count}");
            for (int i = reader.ReadInt32(); i != -1; i = reader.ReadInt32())
            {
                if (i < 0 || i >= operators.Count || operators[i] is not IShardedOperator sharded)
                    throw new InvalidDataException($"the shard has groups of operator {i}, which is not a sharded operator of the program");
                long before = counted.Count;
                sharded.ReadShard(reader, shard, shards);
                sizes[i] = counted.Count - before;
            }
            return (shard, sizes);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the shard of the state snapshot is cut short", e);
        }
    }

    /// <summary>Counts the bytes that pass (either way), so each operator's share is known on streams that cannot seek (an object being uploaded or downloaded).</summary>
    private sealed class CountedStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            Count += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Count += buffer.Length;
        }
    }
}
