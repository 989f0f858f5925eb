using System.Globalization;

namespace DataPlane.SqlTransforms.Windows;

internal enum WindowKind { Tumble, Hop, Session }

/// <summary>
/// The window of a windowed aggregation (<c>GROUP BY tumble(...)</c>, <c>hop(...)</c>, <c>session(...)</c>): its
/// kind and sizes in microseconds. The event time is column 0 of the Aggregate's input (the stream's watermark
/// column, or the processing time when the stream declares none); window_start and window_end are its first two
/// output columns.
/// </summary>
internal sealed record WindowSpec(WindowKind Kind, long WidthMicros, long SlideMicros, long GapMicros, bool ProcessingTime)
{
    public const int TimeColumn = 0;

    public override string ToString() => Kind switch
    {
        WindowKind.Tumble => $"tumble({Text(WidthMicros)})",
        WindowKind.Hop => $"hop({Text(SlideMicros)}, {Text(WidthMicros)})",
        _ => $"session({Text(GapMicros)})",
    } + (ProcessingTime ? " over processing time" : "");

    private static string Text(long micros) =>
        micros % 1_000_000 == 0 ? (micros / 1_000_000).ToString(CultureInfo.InvariantCulture) + "s" : micros.ToString(CultureInfo.InvariantCulture) + "us";
}
