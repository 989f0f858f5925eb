using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// A strftime/strptime format (DuckDB's specifiers, C's): parsed once when the query binds into literal text and
/// fields, then written or read without allocating. <c>%-d</c> and the like drop the zero padding.
/// </summary>
internal sealed class TimeFormat
{
    /// <summary>The specifiers this engine knows (after % and an optional -).</summary>
    public const string Specifiers = "aAwdbhBmyYHIpMSfgjzZcxX%";
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private readonly record struct Part(char Spec, bool Unpadded, byte[] Literal);

    private readonly Part[] _parts;

    /// <summary>Bytes one value can take at most (a name or number per field: %c is the longest, 19).</summary>
    private readonly int _maxBytes;

    private TimeFormat(Part[] parts) { _parts = parts; _maxBytes = parts.Sum(p => p.Literal.Length + 24); }

    /// <summary>The format, or null with the reason.</summary>
    public static TimeFormat? Parse(string format, bool forParsing, out string? error)
    {
        error = null;
        string written = format;
        // the locale's forms, in DuckDB's (C locale's ISO) spelling
        format = format.Replace("%c", "%Y-%m-%d %H:%M:%S", StringComparison.Ordinal).Replace("%x", "%Y-%m-%d", StringComparison.Ordinal).Replace("%X", "%H:%M:%S", StringComparison.Ordinal);
        var parts = new List<Part>();
        var literal = new System.Text.StringBuilder();
        void Flush() { if (literal.Length > 0) { parts.Add(new Part('\0', false, System.Text.Encoding.UTF8.GetBytes(literal.ToString()))); literal.Clear(); } }
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%') { literal.Append(format[i]); continue; }
            bool unpadded = i + 1 < format.Length && format[i + 1] == '-';
            int at = i + (unpadded ? 2 : 1);
            if (at >= format.Length || Specifiers.IndexOf(format[at]) < 0)
            {
                error = $"'{written}' has {(at >= format.Length ? "a lone %" : "%" + (unpadded ? "-" : "") + format[at])}, which is not a format specifier; they are %{string.Join(" %", Specifiers.ToCharArray())}";
                return null;
            }
            char spec = format[at];
            i = at;
            if (spec == '%') { literal.Append('%'); continue; }
            if (forParsing && spec is 'z' or 'Z')
            {
                error = $"strptime does not read %{spec}; spell the fields out (%Y-%m-%d %H:%M:%S)";
                return null;
            }
            Flush();
            parts.Add(new Part(spec, unpadded, []));
        }
        Flush();
        return new TimeFormat(parts.ToArray());
    }

    /// <summary>Writes a timestamp (microseconds since the epoch) as the format says.</summary>
    public void Write(long micros, Utf8Builder output)
    {
        var target = output.Reserve(_maxBytes);
        int n = 0;
        long day = Calendar.FloorDiv(micros, Values.MicrosPerDay);
        long ofDay = micros - day * Values.MicrosPerDay;
        var (y, m, d) = Calendar.CivilFromDays(day);
        int hour = (int)(ofDay / 3_600_000_000L), minute = (int)(ofDay / 60_000_000L % 60), second = (int)(ofDay / 1_000_000L % 60);
        int fraction = (int)(ofDay % 1_000_000L);
        int weekday = (int)Calendar.FloorMod(day + 4, 7); // 1970-01-01 was a Thursday
        foreach (var p in _parts)
        {
            switch (p.Spec)
            {
                case '\0': p.Literal.CopyTo(target[n..]); n += p.Literal.Length; break;
                case 'a': n += Ascii(Days[weekday].AsSpan(0, 3), target[n..]); break;
                case 'A': n += Ascii(Days[weekday], target[n..]); break;
                case 'w': n += Number(weekday, 1, target[n..]); break;
                case 'd': n += Number(d, p.Unpadded ? 1 : 2, target[n..]); break;
                case 'b' or 'h': n += Ascii(Months[m - 1].AsSpan(0, 3), target[n..]); break;
                case 'B': n += Ascii(Months[m - 1], target[n..]); break;
                case 'm': n += Number(m, p.Unpadded ? 1 : 2, target[n..]); break;
                case 'y': n += Number(Calendar.FloorMod(y, 100), p.Unpadded ? 1 : 2, target[n..]); break;
                case 'Y': n += Number(y, y < 0 ? 1 : 4, target[n..]); break; // DuckDB pads years to four digits, not negative ones
                case 'H': n += Number(hour, p.Unpadded ? 1 : 2, target[n..]); break;
                case 'I': n += Number(hour % 12 == 0 ? 12 : hour % 12, p.Unpadded ? 1 : 2, target[n..]); break;
                case 'p': n += Ascii(hour < 12 ? "AM" : "PM", target[n..]); break;
                case 'M': n += Number(minute, p.Unpadded ? 1 : 2, target[n..]); break;
                case 'S': n += Number(second, p.Unpadded ? 1 : 2, target[n..]); break;
                case 'f': n += Number(fraction, 6, target[n..]); break;
                case 'g': n += Number(fraction / 1000, 3, target[n..]); break;
                case 'j': n += Number(day - Calendar.DaysFromCivil(y, 1, 1) + 1, p.Unpadded ? 1 : 3, target[n..]); break;
                case 'z': n += Ascii("+00", target[n..]); break; // values are UTC
                case 'Z': break; // DuckDB writes no zone name for UTC values
            }
        }
        output.Commit(n);
    }

    /// <summary>Reads a timestamp written in the format; false when the text does not follow it or names no valid time.</summary>
    public bool TryRead(ReadOnlySpan<byte> s, out long micros)
    {
        micros = 0;
        long year = 1900; int month = 1, day = 1, hour = 0, minute = 0, second = 0, fraction = 0, dayOfYear = 0;
        bool pm = false, twelveHour = false;
        int at = 0;
        foreach (var p in _parts)
        {
            long v;
            switch (p.Spec)
            {
                case '\0':
                    if (!s[at..].StartsWith(p.Literal)) return false;
                    at += p.Literal.Length;
                    break;
                case 'a' or 'A':
                    if (!Name(s, ref at, Days, out _)) return false;
                    break;
                case 'b' or 'h' or 'B':
                    if (!Name(s, ref at, Months, out int found)) return false;
                    month = found + 1;
                    break;
                case 'p':
                    if (s.Length - at < 2) return false;
                    var ampm = s.Slice(at, 2);
                    if (ampm.SequenceEqual("PM"u8) || ampm.SequenceEqual("pm"u8)) pm = true;
                    else if (!ampm.SequenceEqual("AM"u8) && !ampm.SequenceEqual("am"u8)) return false;
                    at += 2;
                    break;
                case 'f' or 'g':
                {
                    int digits = p.Spec == 'f' ? 6 : 3;
                    int start = at;
                    if (!Digits(s, ref at, digits, out v)) return false;
                    for (int k = at - start; k < 6; k++) v *= 10;
                    fraction = (int)v;
                    break;
                }
                default:
                    if (!Digits(s, ref at, p.Spec switch { 'Y' => 4, 'j' => 3, 'w' => 1, _ => 2 }, out v)) return false;
                    switch (p.Spec)
                    {
                        case 'Y': year = v; break;
                        case 'y': year = v < 69 ? 2000 + v : 1900 + v; break; // POSIX's pivot, as DuckDB
                        case 'm': month = (int)v; break;
                        case 'd': day = (int)v; break;
                        case 'H': hour = (int)v; break;
                        case 'I': hour = (int)v; twelveHour = true; break;
                        case 'M': minute = (int)v; break;
                        case 'S': second = (int)v; break;
                        case 'j': dayOfYear = (int)v; break;
                    }
                    break;
            }
        }
        if (at != s.Length) return false;
        if (twelveHour) { if (hour is < 1 or > 12) return false; hour = hour % 12 + (pm ? 12 : 0); }
        else if (pm && hour < 12) hour += 12;
        if (month is < 1 or > 12 || hour > 23 || minute > 59 || second > 59 || year > 294_000) return false;
        long days;
        if (dayOfYear > 0)
        {
            if (dayOfYear > (Calendar.IsLeap(year) ? 366 : 365)) return false;
            days = Calendar.DaysFromCivil(year, 1, 1) + dayOfYear - 1;
        }
        else
        {
            if (day < 1 || day > Calendar.DaysInMonth(year, month)) return false;
            days = Calendar.DaysFromCivil(year, month, day);
        }
        micros = days * Values.MicrosPerDay + ((hour * 60L + minute) * 60 + second) * Values.MicrosPerSecond + fraction;
        return true;
    }

    /// <summary>One to <paramref name="max"/> digits (DuckDB reads unpadded numbers as well as padded ones).</summary>
    private static bool Digits(ReadOnlySpan<byte> s, ref int at, int max, out long value)
    {
        value = 0;
        int start = at;
        while (at < s.Length && at - start < max && s[at] is >= (byte)'0' and <= (byte)'9') value = value * 10 + (s[at++] - '0');
        return at > start;
    }

    /// <summary>A month's or day's name, full or its first three letters, any case.</summary>
    private static bool Name(ReadOnlySpan<byte> s, ref int at, string[] names, out int index)
    {
        for (index = 0; index < names.Length; index++)
        {
            foreach (int length in (ReadOnlySpan<int>)[names[index].Length, 3])
            {
                if (s.Length - at < length) continue;
                bool same = true;
                for (int k = 0; k < length && same; k++) same = char.ToLowerInvariant((char)s[at + k]) == char.ToLowerInvariant(names[index][k]);
                if (same) { at += length; return true; }
            }
        }
        return false;
    }

    private static int Ascii(ReadOnlySpan<char> text, Span<byte> target)
    {
        for (int i = 0; i < text.Length; i++) target[i] = (byte)text[i];
        return text.Length;
    }

    /// <summary>A number with at least <paramref name="width"/> digits (zero-padded), a minus sign first when negative.</summary>
    private static int Number(long value, int width, Span<byte> target)
    {
        int n = 0;
        if (value < 0) { target[n++] = (byte)'-'; value = -value; }
        Span<byte> digits = stackalloc byte[20];
        int count = 0;
        do { digits[count++] = (byte)('0' + value % 10); value /= 10; } while (value > 0);
        for (int k = count; k < width; k++) target[n++] = (byte)'0';
        while (count > 0) target[n++] = digits[--count];
        return n;
    }
}
