using System.Globalization;
using System.Text;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// The log offsets a sink's commit covers in each stream of a pipeline that reads several (a join of two streams): its
/// files hold the records [start, end) of each stream's log. In the snapshot summary (or a files sink's commit) beside
/// the sink: <c>dataplane.streams</c> = <c>orders:0-120,payments:98-200</c>, with <c>dataplane.stream</c> naming the
/// streams (<c>orders,payments</c>) and the start and end offsets their sums. A commit of a pipeline that read one
/// stream has none: its stream and offsets are the summary's own (<see cref="Of"/> reads both).
/// </summary>
internal sealed class StreamOffsets(IReadOnlyDictionary<string, (long Start, long End)> streams)
{
    public const string SummaryKey = "dataplane.streams";

    /// <summary>Per stream: the offset of the first record covered, and of the next record after the last covered.</summary>
    public IReadOnlyDictionary<string, (long Start, long End)> Streams { get; } = streams;

    /// <summary>The streams' names in one text, what the commit's <c>dataplane.stream</c> says.</summary>
    public static string Names(IEnumerable<string> streams) => string.Join(",", streams);

    public long StartTotal => Streams.Values.Sum(s => s.Start);
    public long EndTotal => Streams.Values.Sum(s => s.End);

    public string Format()
    {
        var text = new StringBuilder();
        foreach (var (stream, (start, end)) in Streams.OrderBy(s => s.Key, StringComparer.Ordinal))
            text.Append(text.Length == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{stream}:{start}-{end}");
        return text.ToString();
    }

    /// <summary>The offsets of a <c>dataplane.streams</c> text.</summary>
    public static StreamOffsets Parse(string text)
    {
        try
        {
            var streams = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int colon = entry.LastIndexOf(':');
                int dash = entry.IndexOf('-', colon + 1);
                streams[entry[..colon]] = (long.Parse(entry.AsSpan(colon + 1, dash - colon - 1), CultureInfo.InvariantCulture),
                    long.Parse(entry.AsSpan(dash + 1), CultureInfo.InvariantCulture));
            }
            return new StreamOffsets(streams);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"The commit's {SummaryKey} '{text}' is not of the form orders:0-120,payments:98-200.", e);
        }
    }

    /// <summary>
    /// Where a commit leaves each stream: its <see cref="SinkCommit.Streams"/>, or for a commit of a pipeline that read one
    /// stream (every commit before pipelines read several), that stream at the commit's offsets.
    /// </summary>
    public static StreamOffsets Of(SinkCommit commit) =>
        commit.Streams ?? new StreamOffsets(new Dictionary<string, (long, long)>(StringComparer.Ordinal) { [commit.Stream] = (commit.StartOffset, commit.EndOffset) });
}
