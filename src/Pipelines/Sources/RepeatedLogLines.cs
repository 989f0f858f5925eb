using System.Text;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// The lines librdkafka logs for one source, with repeats held back: an unreachable broker reports the same failure
/// about every 50 ms. A line is logged at once the first time; its repeats (lines that differ from it only in their
/// numbers: timings, counts) are counted, and logged as one line with the count at most once a minute: with the first
/// repeat after the minute, or by <see cref="Flush"/>, which the source calls as it runs and when it stops.
/// </summary>
internal sealed class RepeatedLogLines(ILogger logger, string stream, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>Distinct lines held back at once; past it, a new line is logged as it comes (a source never has this many).</summary>
    private const int MaxLines = 100;

    private sealed class Line(string facility, string latest, DateTimeOffset loggedAt)
    {
        public string Facility { get; } = facility;
        public string Latest { get; set; } = latest;
        public DateTimeOffset LoggedAt { get; set; } = loggedAt;
        public long Repeats { get; set; }
    }

    private readonly Dictionary<string, Line> _lines = new(StringComparer.Ordinal);

    /// <summary>Repeats counted and not logged yet, all lines together.</summary>
    public long HeldBack { get { lock (_lines) return _lines.Values.Sum(l => l.Repeats); } }

    /// <summary>Called on librdkafka's threads.</summary>
    public void Log(string facility, string message)
    {
        var now = time.GetUtcNow();
        lock (_lines)
        {
            var key = Key(facility, message);
            if (_lines.TryGetValue(key, out var line))
            {
                line.Latest = message;
                line.Repeats++;
                if (now - line.LoggedAt >= Interval)
                    Summarize(line, now);
                return;
            }
            if (_lines.Count < MaxLines)
                _lines[key] = new Line(facility, message, now);
        }
        logger.LogWarning("Stream {Stream}: kafka {Facility}: {Message}", stream, facility, message);
    }

    /// <summary>
    /// Logs the count of each line whose minute is up (every line's when <paramref name="stopping"/>), and forgets the
    /// lines that were not repeated: the next one is logged at once.
    /// </summary>
    public void Flush(bool stopping = false)
    {
        var now = time.GetUtcNow();
        lock (_lines)
        {
            if (_lines.Count == 0)
                return;
            foreach (var (key, line) in _lines)
            {
                if (!stopping && now - line.LoggedAt < Interval)
                    continue;
                if (line.Repeats > 0)
                    Summarize(line, now);
                else
                    _lines.Remove(key);
            }
        }
    }

    private void Summarize(Line line, DateTimeOffset now)
    {
        logger.LogWarning("Stream {Stream}: kafka {Facility}: {Message} ({Repeats} more like it in the last {Seconds} s)",
            stream, line.Facility, line.Latest, line.Repeats, (long)(now - line.LoggedAt).TotalSeconds);
        line.LoggedAt = now;
        line.Repeats = 0;
    }

    /// <summary>
    /// The line with each run of digits as '#', and without librdkafka's own note of the repeats it skipped: repeats
    /// differ in timings ("after 3ms") and counts ("after 0ms in state CONNECT, 1 identical error(s) suppressed").
    /// </summary>
    private static string Key(string facility, string message)
    {
        var key = new StringBuilder(facility.Length + 1 + message.Length).Append(facility).Append('\n');
        for (int i = 0; i < message.Length; i++)
        {
            if (!char.IsAsciiDigit(message[i]))
                key.Append(message[i]);
            else if (i == 0 || !char.IsAsciiDigit(message[i - 1]))
                key.Append('#');
        }
        return key.Replace(", # identical error(s) suppressed", "").ToString();
    }
}
