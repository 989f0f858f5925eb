using DataPlane.SqlTransforms.EventTime;
using DataPlane.SqlTransforms.Execution.Operators;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// The snapshot of a running execution: a header (format, the sources and the number of stateful operators, so a
/// snapshot of another program is refused), each source's watermark with its partitions, then each stateful
/// operator's state in the order the program builds them. Keys are written as bytes, values unboxed.
/// </summary>
internal static class ExecutionState
{
    private const int Format = 1;
    private const string Magic = "DPSQLSTATE";

    /// <summary>Writes the snapshot; answers each operator's share of it in bytes (zeros on a stream that cannot tell its position).</summary>
    public static long[] Write(Stream stream, IReadOnlyDictionary<string, WatermarkTracker> trackers, IReadOnlyList<IStatefulOperator> operators)
    {
        var sizes = new long[operators.Count];
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Format);
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
            long before = stream.CanSeek ? stream.Position : 0;
            op.WriteState(writer);
            writer.Flush();
            sizes[i] = stream.CanSeek ? stream.Position - before : 0;
        }
        return sizes;
    }

    /// <summary>Reads a snapshot into the operators; answers each one's share of it in bytes (zeros on a stream that cannot tell its position).</summary>
    public static long[] Read(Stream stream, IReadOnlyDictionary<string, WatermarkTracker> trackers, IReadOnlyList<IStatefulOperator> operators)
    {
        var sizes = new long[operators.Count];
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Format)
                throw new InvalidDataException("not a state snapshot of this version of the SQL engine");
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
                long before = stream.CanSeek ? stream.Position : 0;
                op.ReadState(reader);
                sizes[i] = stream.CanSeek ? stream.Position - before : 0;
            }
            return sizes;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the state snapshot is cut short", e);
        }
    }
}
