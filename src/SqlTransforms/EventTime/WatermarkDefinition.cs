using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.EventTime;

/// <summary>
/// A stream's event time: its TIMESTAMP column, how far behind the largest time seen the watermark trails
/// (<see cref="Delay"/>: records up to that much out of order are on time), and after how long without records a
/// partition stops holding the watermark back (<see cref="IdleTimeout"/>, none by default). Declared in SQL
/// (<c>WATERMARK FOR ts AS ts - INTERVAL '5' SECOND</c>) or given by the pipeline runtime from the stream's JSON
/// (<see cref="Parse"/> takes its "5 seconds" texts).
/// </summary>
public sealed record WatermarkDefinition(string Column, TimeSpan Delay, TimeSpan? IdleTimeout = null)
{
    /// <summary>From texts such as "5 seconds" or "1 minute 30 seconds"; an <see cref="ArgumentException"/> naming the bad value otherwise.</summary>
    public static WatermarkDefinition Parse(string column, string delay, string? idleTimeout = null)
    {
        if (string.IsNullOrWhiteSpace(column)) throw new ArgumentException("the watermark needs the name of its event time column", nameof(column));
        return new WatermarkDefinition(column, Duration(delay, "delay"), idleTimeout is null ? null : Duration(idleTimeout, "idle_timeout"));
    }

    /// <summary>An interval text as a duration: at least zero, and without months (a month has no fixed length).</summary>
    internal static TimeSpan Duration(string text, string what)
    {
        if (!ValueText.TryParseInterval(text, null, out var interval) || interval.Months != 0)
            throw new ArgumentException($"the watermark's {what} \"{text}\" is not a duration; write e.g. \"5 seconds\" or \"1 minute\"");
        long micros = interval.Days * IntervalValue.MicrosPerDay + interval.Micros;
        if (micros < 0) throw new ArgumentException($"the watermark's {what} \"{text}\" is negative");
        return TimeSpan.FromMicroseconds(micros);
    }

    internal long DelayMicros => Delay.Ticks / 10;
    internal long? IdleTimeoutMicros => IdleTimeout is { } t ? t.Ticks / 10 : null;
}
