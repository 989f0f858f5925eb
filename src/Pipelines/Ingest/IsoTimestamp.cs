namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// The common shape of ISO 8601 timestamps, <c>YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]</c>, read digit by digit
/// into microseconds from the epoch. It answers only for text System.Text.Json's own parser accepts, with the same
/// value (fractions past 100 ns are cut, like there); anything else is left to that parser.
/// </summary>
internal static class IsoTimestamp
{
    private const long MicrosPerSecond = 1_000_000;

    /// <summary>
    /// True with the instant in microseconds (the text taken as UTC when it has no zone) and whether a zone was
    /// written; false when the text is not in the common shape.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out long micros, out bool zoned)
    {
        micros = 0;
        zoned = false;
        if (text.Length < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
            return false;
        if (!Digits4(text, 0, out int year) || !Digits2(text, 5, out int month) || !Digits2(text, 8, out int day)
            || !Digits2(text, 11, out int hour) || !Digits2(text, 14, out int minute) || !Digits2(text, 17, out int second))
            return false;
        // Years at the ends of DateTime's range are left to the full parser, which knows when a zone pushes them out.
        if (year is < 2 or > 9998 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
            return false;

        int i = 19;
        long ticks = 0; // 100 ns units of the fraction
        if (i < text.Length && text[i] == '.')
        {
            int start = ++i, scale = 1_000_000;
            while (i < text.Length && (uint)(text[i] - '0') <= 9)
            {
                if (i - start < 7)
                {
                    ticks += (text[i] - '0') * scale;
                    scale /= 10;
                }
                i++;
            }
            if (i == start || i - start > 16)
                return false;
        }

        int offsetSeconds = 0;
        if (i < text.Length)
        {
            if (text[i] == 'Z' && i + 1 == text.Length)
                zoned = true;
            else if (text[i] is (byte)'+' or (byte)'-' && i + 6 == text.Length && text[i + 3] == ':'
                && Digits2(text, i + 1, out int offsetHours) && Digits2(text, i + 4, out int offsetMinutes)
                && offsetHours <= 13 && offsetMinutes <= 59)
            {
                zoned = true;
                offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (text[i] == '-' ? -1 : 1);
            }
            else
                return false;
        }

        long days = new DateOnly(year, month, day).DayNumber - UnixEpochDay;
        long seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds;
        // As (ticks - epoch ticks) / 10 would: truncated toward zero.
        micros = (seconds * 10_000_000 + ticks) / 10;
        return true;
    }

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static bool Digits2(ReadOnlySpan<byte> text, int at, out int value)
    {
        uint a = (uint)(text[at] - '0'), b = (uint)(text[at + 1] - '0');
        value = (int)(a * 10 + b);
        return a <= 9 && b <= 9;
    }

    private static bool Digits4(ReadOnlySpan<byte> text, int at, out int value)
    {
        bool ok = Digits2(text, at, out int high) & Digits2(text, at + 2, out int low);
        value = high * 100 + low;
        return ok;
    }
}
