namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// The proleptic Gregorian calendar on day numbers (days since 1970-01-01) for any int range, without DateTime's
/// year limits (Howard Hinnant's algorithms), and month arithmetic the way SQL adds intervals.
/// </summary>
internal static class Calendar
{
    public static int DaysFromCivil(long year, int month, int day)
    {
        year -= month <= 2 ? 1 : 0;
        long era = (year >= 0 ? year : year - 399) / 400;
        long yoe = year - era * 400;
        long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return (int)(era * 146097 + doe - 719468);
    }

    public static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        days += 719468;
        long era = (days >= 0 ? days : days - 146096) / 146097;
        long doe = days - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long y = yoe + era * 400;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int d = (int)(doy - (153 * mp + 2) / 5 + 1);
        int m = (int)(mp < 10 ? mp + 3 : mp - 9);
        return (y + (m <= 2 ? 1 : 0), m, d);
    }

    public static bool IsLeap(long year) => year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

    public static int DaysInMonth(long year, int month) => month switch
    {
        2 => IsLeap(year) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    public static long FloorDiv(long a, long b) => a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0);
    public static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;

    /// <summary>Adds an interval to a timestamp: months first (the day clamped to the month's end), then days, then time.</summary>
    public static bool TryAdd(long micros, IntervalValue interval, out long result)
    {
        result = 0;
        long days = FloorDiv(micros, Values.MicrosPerDay);
        long time = micros - days * Values.MicrosPerDay;
        if (interval.Months != 0)
        {
            var (y, m, d) = CivilFromDays(days);
            long months = y * 12 + (m - 1) + interval.Months;
            long ny = FloorDiv(months, 12);
            int nm = (int)(months - ny * 12) + 1;
            if (ny is < -290_000 or > 290_000) return false;
            days = DaysFromCivil(ny, nm, Math.Min(d, DaysInMonth(ny, nm)));
        }
        try
        {
            result = checked((days + interval.Days) * Values.MicrosPerDay + time + interval.Micros);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }
}
