using System.Runtime.InteropServices;

namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// An INTERVAL: months, days and nanoseconds kept apart (a month is not a fixed number of days), laid out as Arrow's
/// month-day-nano interval so a column of them is read and written without conversion. SQL works in microseconds.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct IntervalValue(int Months, int Days, long Nanoseconds)
{
    public const long MicrosPerDay = 86_400_000_000L;

    public long Micros => Nanoseconds / 1000;

    public static IntervalValue FromMicros(int months, int days, long micros) => new(months, days, checked(micros * 1000));

    /// <summary>Total microseconds counting a month as 30 days (how DuckDB orders and compares intervals).</summary>
    public Int128 Normalized => ((Int128)Months * 30 + Days) * MicrosPerDay + Micros;
}
