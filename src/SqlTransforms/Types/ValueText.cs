using System.Globalization;
using System.Text;

namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// Values as text and back, the way DuckDB writes and reads them: DOUBLE in the shortest form that reads back
/// ("0.1", "100.0", "1e+20"), dates as 2024-01-31, timestamps as 2024-01-31 10:00:00[.fraction], TIMESTAMP WITH
/// TIME ZONE with "+00", intervals as "1 year 2 months 3 days 04:05:06".
/// </summary>
internal static class ValueText
{
    /// <summary>
    /// A value's text inside a list or struct as DuckDB writes it: quoted (<see cref="Quoted"/>) when it is empty, starts
    /// or ends with a space, reads as NULL, or holds one of <c>"'(),:=[]{}</c>; as it is otherwise.
    /// </summary>
    public static string Nested(string text) =>
        text.Length == 0 || char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])
        || text.Equals("null", StringComparison.OrdinalIgnoreCase) || text.AsSpan().IndexOfAny("\"'(),:=[]{}") >= 0 ? Quoted(text) : text;

    /// <summary>'text' with \ and ' escaped by a backslash (DuckDB's quoting inside nested values and of struct field names).</summary>
    public static string Quoted(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    public static string Double(double d)
    {
        if (double.IsNaN(d)) return BitConverter.DoubleToInt64Bits(d) < 0 ? "-nan" : "nan"; // DuckDB shows the sign bit (inf - inf is -nan)
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        return Shortest(d.ToString("R", CultureInfo.InvariantCulture));
    }

    public static string Real(float f)
    {
        if (float.IsNaN(f)) return BitConverter.SingleToInt32Bits(f) < 0 ? "-nan" : "nan";
        if (float.IsPositiveInfinity(f)) return "inf";
        if (float.IsNegativeInfinity(f)) return "-inf";
        return Shortest(f.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>Python's repr rules on .NET's shortest round-trip digits: plain notation for exponents -4 to 15, else d.ddde+XX.</summary>
    private static string Shortest(string r)
    {
        bool negative = r.StartsWith('-');
        if (negative) r = r[1..];
        int e = r.IndexOfAny(['E', 'e']);
        int exponent = 0;
        string mantissa = r;
        if (e >= 0)
        {
            exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
            mantissa = r[..e];
        }
        int point = mantissa.IndexOf('.');
        string digits = point < 0 ? mantissa : mantissa[..point] + mantissa[(point + 1)..];
        int decimalPosition = (point < 0 ? mantissa.Length : point) + exponent; // digits before the point
        int leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0') { leading++; decimalPosition--; }
        digits = digits[leading..].TrimEnd('0');
        if (digits.Length == 0) return negative ? "-0.0" : "0.0";
        int sci = decimalPosition - 1;
        string body;
        if (sci < -4 || sci >= 16)
        {
            body = digits[..1] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + (sci < 0 ? "-" : "+") + Math.Abs(sci).ToString("00", CultureInfo.InvariantCulture);
        }
        else if (decimalPosition <= 0)
            body = "0." + new string('0', -decimalPosition) + digits;
        else if (decimalPosition >= digits.Length)
            body = digits + new string('0', decimalPosition - digits.Length) + ".0";
        else
            body = digits[..decimalPosition] + "." + digits[decimalPosition..];
        return negative ? "-" + body : body;
    }

    public static string Decimal(Int128 unscaled, int scale)
    {
        bool negative = unscaled < 0;
        var digits = (negative ? -(System.Numerics.BigInteger)unscaled : (System.Numerics.BigInteger)unscaled).ToString(CultureInfo.InvariantCulture);
        if (scale > 0)
        {
            digits = digits.PadLeft(scale + 1, '0');
            digits = digits[..^scale] + "." + digits[^scale..];
        }
        return negative ? "-" + digits : digits;
    }

    public static string Date(int days)
    {
        var (y, m, d) = Calendar.CivilFromDays(days);
        return Year(y) + "-" + m.ToString("00", CultureInfo.InvariantCulture) + "-" + d.ToString("00", CultureInfo.InvariantCulture) + (y <= 0 ? " (BC)" : "");
    }

    private static string Year(long y) => (y <= 0 ? 1 - y : y).ToString("0000", CultureInfo.InvariantCulture);

    public static string Time(long micros)
    {
        long seconds = micros / Values.MicrosPerSecond, fraction = micros % Values.MicrosPerSecond;
        var text = (seconds / 3600).ToString("00", CultureInfo.InvariantCulture) + ":" + (seconds / 60 % 60).ToString("00", CultureInfo.InvariantCulture) + ":" + (seconds % 60).ToString("00", CultureInfo.InvariantCulture);
        return fraction == 0 ? text : text + "." + fraction.ToString("000000", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    public static string Timestamp(long micros, bool withZone)
    {
        long day = Calendar.FloorDiv(micros, Values.MicrosPerDay);
        var (y, m, d) = Calendar.CivilFromDays(day);
        // DuckDB writes the era after the date: 0001-06-30 (BC) 16:01:00
        return Year(y) + "-" + m.ToString("00", CultureInfo.InvariantCulture) + "-" + d.ToString("00", CultureInfo.InvariantCulture) + (y <= 0 ? " (BC)" : "")
            + " " + Time(micros - day * Values.MicrosPerDay) + (withZone ? "+00" : "");
    }

    public static string Interval(IntervalValue v)
    {
        var parts = new List<string>();
        int years = v.Months / 12, months = v.Months % 12;
        if (years != 0) parts.Add(years + (Math.Abs(years) == 1 ? " year" : " years"));
        if (months != 0) parts.Add(months + (Math.Abs(months) == 1 ? " month" : " months"));
        if (v.Days != 0) parts.Add(v.Days + (Math.Abs(v.Days) == 1 ? " day" : " days"));
        long micros = v.Micros;
        if (micros != 0 || parts.Count == 0)
            parts.Add((micros < 0 ? "-" : "") + Time(Math.Abs(micros)));
        return string.Join(' ', parts);
    }

    public static string Blob(ReadOnlySpan<byte> bytes)
    {
        var b = new StringBuilder(bytes.Length);
        foreach (byte x in bytes)
            // DuckDB escapes the quotes too (it's prints as it\x27s)
            if (x is >= 32 and <= 126 && x != '\\' && x != '\'' && x != '"') b.Append((char)x);
            else b.Append("\\x").Append(x.ToString("X2", CultureInfo.InvariantCulture));
        return b.ToString();
    }

    public static byte[]? ParseBlob(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && (text[i + 1] is 'x' or 'X')
                && byte.TryParse(text.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 3;
                continue;
            }
            if (text[i] > 127) return null;
            bytes.Add((byte)text[i]);
        }
        return bytes.ToArray();
    }

    public static bool TryParseBoolean(string text, out bool value)
    {
        // DuckDB's spellings, any case, no surrounding spaces
        switch (text.ToLowerInvariant())
        {
            case "true" or "t" or "yes" or "y" or "1": value = true; return true;
            case "false" or "f" or "no" or "n" or "0": value = false; return true;
            default: value = false; return false;
        }
    }

    public static bool TryParseLong(string text, out long value)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out value))
            return true;
        // DuckDB reads '1.5' and '1e3' as numbers and rounds them, halves away from zero; exactly, so that
        // '-9.223372036854776e+18' (beyond the smallest BIGINT) is out of range
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal m))
        {
            decimal rounded = Math.Round(m, MidpointRounding.AwayFromZero);
            if (rounded >= long.MinValue && rounded <= long.MaxValue) { value = (long)rounded; return true; }
        }
        return false;
    }

    /// <summary>A quiet NaN without the sign bit: what DuckDB reads 'nan' as.</summary>
    public static readonly double PositiveNaN = BitConverter.Int64BitsToDouble(0x7FF8000000000000);

    public static bool TryParseDouble(string text, out double value)
    {
        var t = text.Trim();
        switch (t.ToLowerInvariant())
        {
            // .NET's double.NaN has the sign bit set; DuckDB's 'nan' has not (and '-nan' has)
            case "nan" or "+nan": value = PositiveNaN; return true;
            case "-nan": value = -PositiveNaN; return true;
            case "inf" or "infinity" or "+inf" or "+infinity": value = double.PositiveInfinity; return true;
            case "-inf" or "-infinity": value = double.NegativeInfinity; return true;
        }
        // a number too large for a DOUBLE ('1e400') is infinity, as in DuckDB
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A decimal string rounded (halves away from zero) to <paramref name="scale"/> digits; false when it has more than <paramref name="precision"/> digits.</summary>
    /// <summary>
    /// Text as DECIMAL(precision, scale), exactly (all 38 digits; .NET's decimal holds 28): [sign] digits [. digits]
    /// [e exponent], rounded half away from zero at the scale (DuckDB's). At most 200 significant digits.
    /// </summary>
    public static bool TryParseDecimal(string text, int precision, int scale, out Int128 unscaled)
    {
        unscaled = 0;
        var s = text.AsSpan().Trim();
        int i = 0;
        bool negative = false, point = false, any = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
        var digits = System.Numerics.BigInteger.Zero;
        int fractionDigits = 0, significant = 0;
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (c is >= '0' and <= '9')
            {
                any = true;
                if (point) fractionDigits++;
                if (!digits.IsZero || c != '0') significant++;
                if (significant > 200) return false;
                digits = digits * 10 + (c - '0');
            }
            else if (c == '.' && !point) point = true;
            else break;
        }
        if (!any) return false;
        int exponent = 0;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            if (!int.TryParse(s[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > 400) return false;
            i = s.Length;
        }
        if (i != s.Length) return false;
        // the value is digits * 10^(exponent - fractionDigits); unscaled, digits * 10^(scale + exponent - fractionDigits)
        int shift = scale + exponent - fractionDigits;
        if (shift >= 0) digits *= System.Numerics.BigInteger.Pow(10, shift);
        else
        {
            var divisor = System.Numerics.BigInteger.Pow(10, -shift);
            var quotient = System.Numerics.BigInteger.DivRem(digits, divisor, out var remainder);
            digits = remainder * 2 >= divisor ? quotient + 1 : quotient;
        }
        if (digits >= System.Numerics.BigInteger.Pow(10, precision)) return false;
        unscaled = (Int128)(negative ? -digits : digits);
        return true;
    }

    public static bool TryScale(decimal d, int precision, int scale, out Int128 unscaled)
    {
        unscaled = 0;
        try
        {
            decimal rounded = Math.Round(d, Math.Min(scale, 28), MidpointRounding.AwayFromZero);
            // the decimal's own digits at the wanted scale, exactly
            var big = System.Numerics.BigInteger.Parse(rounded.ToString("F" + Math.Min(scale, 28), CultureInfo.InvariantCulture).Replace(".", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)
                * System.Numerics.BigInteger.Pow(10, Math.Max(0, scale - 28));
            if (System.Numerics.BigInteger.Abs(big) >= System.Numerics.BigInteger.Pow(10, precision)) return false;
            unscaled = (Int128)big;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>A date, or a timestamp's text whose date part is taken (as DuckDB casts '2024-01-31 10:00:00' to DATE).</summary>
    public static bool TryParseDateOrTimestamp(string text, out int days)
    {
        if (TryParseDate(text, out days)) return true;
        // DuckDB also takes a date followed by anything that does not continue it: '2024-01-31x', '2024-01-31 10:00'
        var t = text.TrimStart();
        int i = 0;
        while (i < t.Length && (char.IsAsciiDigit(t[i]) || t[i] == '-')) i++;
        if (i < t.Length && i > 0 && TryParseDate(t[..i], out days)) return true;
        if (!TryParseTimestamp(text, out long micros)) return false;
        days = (int)Calendar.FloorDiv(micros, Values.MicrosPerDay);
        return true;
    }

    public static bool TryParseDate(string text, out int days)
    {
        days = 0;
        var t = text.Trim();
        int i = 0;
        // a year may be negative: year 0 is 1 BC (ISO 8601, as DuckDB reads it)
        bool bc = t.StartsWith('-');
        if (bc) i++;
        if (!Number(t, ref i, 1, 6, out long y) || !Expect(t, ref i, '-') || !Number(t, ref i, 1, 2, out long m) || !Expect(t, ref i, '-') || !Number(t, ref i, 1, 2, out long d))
            return false;
        if (bc) y = -y;
        if (i != t.Length || m is < 1 or > 12 || d < 1 || d > Calendar.DaysInMonth(y, (int)m)) return false;
        days = Calendar.DaysFromCivil(y, (int)m, (int)d);
        return true;
    }

    public static bool TryParseTime(string text, out long micros) => TryParseTimeAt(text.Trim(), 0, out micros, out int end) && end == text.Trim().Length;

    private static bool TryParseTimeAt(string t, int i, out long micros, out int end)
    {
        micros = 0;
        end = i;
        if (!Number(t, ref i, 1, 2, out long h) || !Expect(t, ref i, ':') || !Number(t, ref i, 2, 2, out long mi)) return false;
        long s = 0, fraction = 0;
        if (i < t.Length && t[i] == ':')
        {
            i++;
            if (!Number(t, ref i, 2, 2, out s)) return false;
            if (i < t.Length && t[i] == '.')
            {
                i++;
                int start = i;
                if (!Number(t, ref i, 1, 9, out long f)) return false;
                int digits = i - start;
                fraction = digits <= 6 ? f * (long)Math.Pow(10, 6 - digits) : f / (long)Math.Pow(10, digits - 6);
            }
        }
        if (h > 24 || mi > 59 || s > 59 || (h == 24 && (mi > 0 || s > 0 || fraction > 0))) return false;
        micros = ((h * 60 + mi) * 60 + s) * Values.MicrosPerSecond + fraction;
        end = i;
        return true;
    }

    /// <summary>'2024-01-31', '2024-01-31 10:00[:00[.123456]]', a 'T' instead of the space, and a zone (Z, +02, +02:00, -0530) converted to UTC.</summary>
    public static bool TryParseTimestamp(string text, out long micros)
    {
        micros = 0;
        var t = text.Trim();
        int split = t.IndexOfAny([' ', 'T']);
        if (split < 0) split = t.Length;
        if (!TryParseDate(t[..split], out int days)) return false;
        long time = 0;
        int i = split;
        if (i < t.Length)
        {
            i++;
            while (i < t.Length && t[i] == ' ') i++;
            if (!TryParseTimeAt(t, i, out time, out i)) return false;
            while (i < t.Length && t[i] == ' ') i++;
            if (i < t.Length)
            {
                if (t[i] is 'Z' or 'z') i++;
                else if (t.AsSpan(i).Equals("UTC", StringComparison.OrdinalIgnoreCase)) i += 3;
                else if (t[i] is '+' or '-')
                {
                    int sign = t[i] == '-' ? -1 : 1;
                    i++;
                    if (!Number(t, ref i, 2, 2, out long oh)) return false;
                    long om = 0;
                    if (i < t.Length && t[i] == ':') i++;
                    if (i < t.Length && !Number(t, ref i, 2, 2, out om)) return false;
                    time -= sign * (oh * 60 + om) * 60 * Values.MicrosPerSecond;
                }
                if (i != t.Length) return false;
            }
        }
        try { micros = checked(days * Values.MicrosPerDay + time); return true; }
        catch (OverflowException) { return false; }
    }

    private static readonly Dictionary<string, (int Months, int Days, long Micros)> Units = new(StringComparer.OrdinalIgnoreCase)
    {
        ["year"] = (12, 0, 0), ["years"] = (12, 0, 0), ["y"] = (12, 0, 0),
        ["month"] = (1, 0, 0), ["months"] = (1, 0, 0), ["mon"] = (1, 0, 0), ["mons"] = (1, 0, 0),
        ["week"] = (0, 7, 0), ["weeks"] = (0, 7, 0), ["w"] = (0, 7, 0),
        ["day"] = (0, 1, 0), ["days"] = (0, 1, 0), ["d"] = (0, 1, 0),
        ["hour"] = (0, 0, 3_600_000_000), ["hours"] = (0, 0, 3_600_000_000), ["h"] = (0, 0, 3_600_000_000),
        ["minute"] = (0, 0, 60_000_000), ["minutes"] = (0, 0, 60_000_000), ["min"] = (0, 0, 60_000_000), ["mins"] = (0, 0, 60_000_000), ["m"] = (0, 0, 60_000_000),
        ["second"] = (0, 0, 1_000_000), ["seconds"] = (0, 0, 1_000_000), ["sec"] = (0, 0, 1_000_000), ["secs"] = (0, 0, 1_000_000), ["s"] = (0, 0, 1_000_000),
        ["millisecond"] = (0, 0, 1000), ["milliseconds"] = (0, 0, 1000), ["ms"] = (0, 0, 1000),
        ["microsecond"] = (0, 0, 1), ["microseconds"] = (0, 0, 1), ["us"] = (0, 0, 1),
    };

    /// <summary>'5 minutes', '1 day 2 hours', '1 day 02:00:00', '-3 days', or a bare number with <paramref name="unit"/>.</summary>
    public static bool TryParseInterval(string text, string? unit, out IntervalValue value)
    {
        value = default;
        var t = text.Trim();
        if (unit is not null) t = t + " " + unit;
        long months = 0, days = 0;
        decimal micros = 0;
        var tokens = t.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0) return false;
        for (int k = 0; k < tokens.Length; k++)
        {
            var token = tokens[k];
            if (token.Contains(':'))
            {
                bool negative = token.StartsWith('-');
                if (!TryParseTime(negative ? token[1..] : token, out long time)) return false;
                micros += negative ? -time : time;
                continue;
            }
            if (!decimal.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal amount)) return false;
            if (k + 1 >= tokens.Length || !Units.TryGetValue(tokens[k + 1], out var u)) return false;
            k++;
            if (u.Months != 0) months += (long)(amount * u.Months);
            else if (u.Days != 0)
            {
                decimal d = amount * u.Days;
                days += (long)Math.Truncate(d);
                micros += (d - Math.Truncate(d)) * Values.MicrosPerDay;
            }
            else micros += amount * u.Micros;
        }
        if (months != (int)months || days != (int)days || Math.Abs(micros) > long.MaxValue / 1000) return false;
        value = new IntervalValue((int)months, (int)days, (long)Math.Round(micros) * 1000);
        return true;
    }

    private static bool Number(string t, ref int i, int min, int max, out long value)
    {
        value = 0;
        int start = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]) && i - start < max) value = value * 10 + (t[i++] - '0');
        return i - start >= min && !(i < t.Length && char.IsAsciiDigit(t[i]));
    }

    private static bool Expect(string t, ref int i, char c)
    {
        if (i >= t.Length || t[i] != c) return false;
        i++;
        return true;
    }
}
