using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;
using CultureInfo = System.Globalization.CultureInfo;
using NumberStyles = System.Globalization.NumberStyles;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// CAST between the primitive types, with DuckDB's rules: DOUBLE to integer rounds half to even, DECIMAL rounds
/// half away from zero, a value out of the target's range or a text that does not parse fails the row (TRY_CAST
/// gives NULL). Every type casts to VARCHAR and VARCHAR to every primitive type; a list casts to a list element by element.
/// </summary>
internal static class CastFunctions
{
    /// <summary>Whether CAST(from AS to) exists (checked when binding, so a bad CAST is a compile error with a position).</summary>
    public static bool CanCast(SqlType from, SqlType to)
    {
        if (from == to || from.Kind == SqlTypeKind.Null) return true;
        if (from.Kind == SqlTypeKind.List && to.Kind == SqlTypeKind.List) return CanCast(from.Element!, to.Element!);
        if (from.IsNested || to.IsNested) return false; // casts of structs and maps, and of lists to text, come later
        if (from.Kind == SqlTypeKind.Fixed || to.Kind == SqlTypeKind.Fixed) return false; // FIXED(L) only passes through
        if (to.Kind == SqlTypeKind.Varchar || from.Kind == SqlTypeKind.Varchar) return to.Kind != SqlTypeKind.Null;
        bool numeric(SqlType t) => t.IsNumeric || t.Kind == SqlTypeKind.Boolean;
        if (numeric(from) && numeric(to)) return true;
        bool temporal(SqlType t) => t.Kind is SqlTypeKind.Date or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz;
        if (temporal(from) && temporal(to)) return true;
        return from.IsTimestamp && to.Kind == SqlTypeKind.Time;
    }

    public static Kernel Compile(Kernel operand, SqlType to, bool isTry)
    {
        if (!isTry) return Cast(operand, to);
        var shared = new SharedKernel(operand);
        return new TryKernel(shared, Cast(shared, to));
    }

    private static Kernel Cast(Kernel k, SqlType to)
    {
        var from = k.Type;
        if (from == to) return k;
        if (from.Kind == SqlTypeKind.Null) return new ConstantKernel(null, to);
        if (from.Kind == SqlTypeKind.List) return new ListCastKernel(k, Cast(new ColumnKernel(0, from.Element!), to.Element!), to);
        if (to.Kind == SqlTypeKind.Varchar) return ToText(k);
        if (from.Kind == SqlTypeKind.Varchar) return FromText(k, to);
        switch (from.Kind, to.Kind)
        {
            case (SqlTypeKind.Boolean, _): return to.Kind == SqlTypeKind.Integer ? new BooleanBytesKernel(k, to, false) : Cast(new BooleanBytesKernel(k, SqlType.Integer, false), to);
            case (_, SqlTypeKind.Boolean):
                return new BooleanBytesKernel(from.Kind is SqlTypeKind.Real or SqlTypeKind.Double or SqlTypeKind.Decimal ? Cast(k, SqlType.Double) : Cast(k, SqlType.BigInt), to, true);
            case (SqlTypeKind.Integer, SqlTypeKind.BigInt): return new UnaryKernel<int, long, Widen>(k, to);
            case (SqlTypeKind.Integer, SqlTypeKind.Double): return new UnaryKernel<int, double, Widen>(k, to);
            case (SqlTypeKind.Integer, SqlTypeKind.Real): return new UnaryKernel<int, float, Widen>(k, to);
            case (SqlTypeKind.BigInt, SqlTypeKind.Integer): return new UnaryKernel<long, int, Narrow>(k, to);
            case (SqlTypeKind.BigInt, SqlTypeKind.Double): return new UnaryKernel<long, double, Widen>(k, to);
            case (SqlTypeKind.BigInt, SqlTypeKind.Real): return new UnaryKernel<long, float, Widen>(k, to);
            case (SqlTypeKind.Real, SqlTypeKind.Double): return new UnaryKernel<float, double, Widen>(k, to);
            case (SqlTypeKind.Double, SqlTypeKind.Real): return new UnaryKernel<double, float, Narrow>(k, to);
            case (SqlTypeKind.Double, SqlTypeKind.BigInt): return new UnaryKernel<double, long, Narrow>(k, to);
            case (SqlTypeKind.Double, SqlTypeKind.Integer): return new UnaryKernel<double, int, Narrow>(k, to);
            case (SqlTypeKind.Real, SqlTypeKind.Integer or SqlTypeKind.BigInt): return Cast(Cast(k, SqlType.Double), to);
            case (SqlTypeKind.Integer or SqlTypeKind.BigInt, SqlTypeKind.Decimal):
                return new UnaryKernel<long, Int128, ToDecimal>(Cast(k, SqlType.BigInt), to, new ToDecimal(to.Precision, to.Scale));
            case (SqlTypeKind.Real or SqlTypeKind.Double, SqlTypeKind.Decimal):
                return new UnaryKernel<double, Int128, DoubleToDecimal>(Cast(k, SqlType.Double), to, new DoubleToDecimal(to.Precision, to.Scale));
            case (SqlTypeKind.Decimal, SqlTypeKind.Decimal):
                return new UnaryKernel<Int128, Int128, Rescale>(k, to, new Rescale(from.Scale, to.Precision, to.Scale));
            case (SqlTypeKind.Decimal, SqlTypeKind.Double or SqlTypeKind.Real):
                return Cast(new UnaryKernel<Int128, double, DecimalToDouble>(k, SqlType.Double, new DecimalToDouble(from.Scale)), to);
            case (SqlTypeKind.Decimal, SqlTypeKind.Integer or SqlTypeKind.BigInt):
                return Cast(new UnaryKernel<Int128, Int128, Rescale>(k, SqlType.Decimal(38, 0), new Rescale(from.Scale, 38, 0)) is var whole
                    ? new UnaryKernel<Int128, long, DecimalToLong>(whole, SqlType.BigInt) : k, to);
            case (SqlTypeKind.Date, SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz): return new UnaryKernel<int, long, DateToTimestamp>(k, to);
            case (SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz, SqlTypeKind.Date): return new UnaryKernel<long, int, TimestampToDate>(k, to);
            case (SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz, SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz): return new UnaryKernel<long, long, Widen>(k, to);
            case (SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz, SqlTypeKind.Time): return new UnaryKernel<long, long, TimeOfDay>(k, to);
        }
        throw new NotSupportedException($"CAST from {from} to {to}");
    }

    private static Kernel ToText(Kernel k) => k.Type.Kind switch
    {
        SqlTypeKind.Boolean => new BooleanTextKernel(k),
        SqlTypeKind.Integer => new IntegerTextKernel<int>(k),
        SqlTypeKind.BigInt => new IntegerTextKernel<long>(k),
        SqlTypeKind.Real => new FormatKernel<float>(k, ValueText.Real),
        SqlTypeKind.Double => new FormatKernel<double>(k, ValueText.Double),
        SqlTypeKind.Decimal => new FormatKernel<Int128>(k, v => ValueText.Decimal(v, k.Type.Scale)),
        SqlTypeKind.Date => new FormatKernel<int>(k, ValueText.Date),
        SqlTypeKind.Time => new FormatKernel<long>(k, ValueText.Time),
        SqlTypeKind.Timestamp => new FormatKernel<long>(k, v => ValueText.Timestamp(v, false)),
        SqlTypeKind.TimestampTz => new FormatKernel<long>(k, v => ValueText.Timestamp(v, true)),
        SqlTypeKind.Interval => new FormatKernel<IntervalValue>(k, ValueText.Interval),
        SqlTypeKind.Uuid => new FormatKernel<UInt128>(k, v => UuidText(v)),
        SqlTypeKind.Blob => new BlobTextKernel(k, toText: true),
        _ => throw new NotSupportedException($"CAST from {k.Type} to VARCHAR"),
    };

    private static string UuidText(UInt128 stored)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in stored);
        return new Guid(bytes, bigEndian: true).ToString("D");
    }

    private static Kernel FromText(Kernel k, SqlType to) => to.Kind switch
    {
        SqlTypeKind.Boolean => new ParseKernel<bool>(k, to, ValueText.TryParseBoolean),
        SqlTypeKind.Integer => new ParseKernel<int>(k, to, (string t, out int v) => { v = 0; return ValueText.TryParseLong(t, out long l) && (v = (int)l) == l; },
            (ReadOnlySpan<byte> t, out int v) => int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v) && !double.IsNaN(v)),
        SqlTypeKind.BigInt => new ParseKernel<long>(k, to, ValueText.TryParseLong,
            (ReadOnlySpan<byte> t, out long v) => long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v) && !double.IsNaN(v)),
        SqlTypeKind.Double => new ParseKernel<double>(k, to, ValueText.TryParseDouble,
            (ReadOnlySpan<byte> t, out double v) => double.TryParse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out v) && !double.IsNaN(v)),
        SqlTypeKind.Real => new ParseKernel<float>(k, to, (string t, out float v) => { v = 0; bool ok = ValueText.TryParseDouble(t, out double d); v = (float)d; return ok; }),
        SqlTypeKind.Decimal => new ParseKernel<Int128>(k, to, (string t, out Int128 v) => ValueText.TryParseDecimal(t, to.Precision, to.Scale, out v)),
        SqlTypeKind.Date => new ParseKernel<int>(k, to, ValueText.TryParseDateOrTimestamp),
        SqlTypeKind.Time => new ParseKernel<long>(k, to, ValueText.TryParseTime),
        SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz => new ParseKernel<long>(k, to, ValueText.TryParseTimestamp),
        SqlTypeKind.Interval => new ParseKernel<IntervalValue>(k, to, (string t, out IntervalValue v) => ValueText.TryParseInterval(t, null, out v)),
        SqlTypeKind.Uuid => new ParseKernel<UInt128>(k, to, (string t, out UInt128 v) =>
        {
            v = default;
            if (!Guid.TryParse(t.Trim(), out var g)) return false;
            Span<byte> bytes = stackalloc byte[16];
            g.TryWriteBytes(bytes, bigEndian: true, out _);
            v = System.Runtime.InteropServices.MemoryMarshal.Read<UInt128>(bytes);
            return true;
        }),
        SqlTypeKind.Blob => new BlobTextKernel(k, toText: false),
        _ => throw new NotSupportedException($"CAST from VARCHAR to {to}"),
    };

    internal struct Widen : IUnaryOperation<int, long>, IUnaryOperation<int, double>, IUnaryOperation<int, float>, IUnaryOperation<long, double>,
        IUnaryOperation<long, float>, IUnaryOperation<float, double>, IUnaryOperation<long, long>
    {
        public bool Apply(int v, out long r) { r = v; return true; }
        public bool Apply(int v, out double r) { r = v; return true; }
        public bool Apply(int v, out float r) { r = v; return true; }
        public bool Apply(long v, out double r) { r = v; return true; }
        public bool Apply(long v, out float r) { r = v; return true; }
        public bool Apply(float v, out double r) { r = v; return true; }
        public bool Apply(long v, out long r) { r = v; return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(int v) => "";
        public string Describe(long v) => "";
        public string Describe(float v) => "";
    }

    /// <summary>Narrowing numeric casts: DOUBLE rounds half to even (DuckDB), out of range fails.</summary>
    internal struct Narrow : IUnaryOperation<long, int>, IUnaryOperation<double, float>, IUnaryOperation<double, long>, IUnaryOperation<double, int>
    {
        public bool Apply(long v, out int r) { r = (int)v; return r == v; }
        public bool Apply(double v, out float r) { r = (float)v; return float.IsFinite(r) || !double.IsFinite(v); }
        public bool Apply(double v, out long r)
        {
            double d = Math.Round(v, MidpointRounding.ToEven);
            bool ok = d >= -9.2233720368547758E+18 && d < 9.2233720368547758E+18;
            r = ok ? (long)d : 0;
            return ok;
        }
        public bool Apply(double v, out int r)
        {
            double d = Math.Round(v, MidpointRounding.ToEven);
            bool ok = d >= int.MinValue && d <= int.MaxValue;
            r = ok ? (int)d : 0;
            return ok;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(long v) => $"CAST({v} AS INTEGER) is out of range";
        public string Describe(double v) => $"CAST({ValueText.Double(v)} AS a narrower type) is out of range";
    }

    internal readonly struct ToDecimal(int precision, int scale) : IUnaryOperation<long, Int128>
    {
        public bool Apply(long v, out Int128 r)
        {
            r = v * Pow10(scale);
            return Int128.Abs(r) < Pow10(precision);
        }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(long v) => $"CAST({v} AS DECIMAL({precision},{scale})) is out of range";
    }

    internal readonly struct DoubleToDecimal(int precision, int scale) : IUnaryOperation<double, Int128>
    {
        public bool Apply(double v, out Int128 r)
        {
            r = 0;
            if (!double.IsFinite(v)) return false;
            double scaled = Math.Round(v * Math.Pow(10, scale), MidpointRounding.AwayFromZero);
            if (Math.Abs(scaled) >= Math.Pow(10, precision)) return false;
            r = (Int128)scaled;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(double v) => $"CAST({ValueText.Double(v)} AS DECIMAL({precision},{scale})) is out of range";
    }

    internal readonly struct Rescale(int fromScale, int precision, int scale) : IUnaryOperation<Int128, Int128>
    {
        public bool Apply(Int128 v, out Int128 r)
        {
            if (scale >= fromScale) r = v * Pow10(scale - fromScale);
            else
            {
                var divisor = Pow10(fromScale - scale);
                var (q, rem) = Int128.DivRem(v, divisor);
                if (Int128.Abs(rem) * 2 >= divisor) q += Int128.Sign(v);
                r = q;
            }
            return Int128.Abs(r) < Pow10(precision);
        }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(Int128 v) => $"CAST({ValueText.Decimal(v, fromScale)} AS DECIMAL({precision},{scale})) is out of range";
    }

    /// <summary>
    /// The DOUBLE nearest the DECIMAL, as PostgreSQL's numeric to float8 gives it: one rounding. Dividing the unscaled
    /// value, itself rounded to a DOUBLE when above 2^53, by 10^scale rounds twice, and CAST(l AS DECIMAL(38,10)) then
    /// missed CAST(l AS DOUBLE) by an ulp at large BIGINTs (so l / l was 0.9999999999999999).
    /// </summary>
    internal readonly struct DecimalToDouble(int scale) : IUnaryOperation<Int128, double>
    {
        private static readonly double[] ExactPowers = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

        public bool Apply(Int128 v, out double r)
        {
            // both exact as DOUBLEs: the division is the one rounding
            if (scale < ExactPowers.Length && Int128.Abs(v) <= (Int128)1 << 53) { r = (double)v / ExactPowers[scale]; return true; }
            // otherwise the digits with their exponent, which .NET parses correctly rounded (no allocation: 39 digits, sign, E-38)
            Span<char> text = stackalloc char[48];
            v.TryFormat(text, out int n, default, CultureInfo.InvariantCulture);
            text[n++] = 'E';
            text[n++] = '-';
            scale.TryFormat(text[n..], out int digits, default, CultureInfo.InvariantCulture);
            r = double.Parse(text[..(n + digits)], NumberStyles.Float, CultureInfo.InvariantCulture);
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(Int128 v) => "";
    }

    internal struct DecimalToLong : IUnaryOperation<Int128, long>
    {
        public bool Apply(Int128 v, out long r) { r = (long)v; return v >= long.MinValue && v <= long.MaxValue; }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(Int128 v) => $"CAST({v} AS BIGINT) is out of range";
    }

    internal struct DateToTimestamp : IUnaryOperation<int, long>
    {
        public bool Apply(int v, out long r) { r = v * Values.MicrosPerDay; return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(int v) => "";
    }

    internal struct TimestampToDate : IUnaryOperation<long, int>
    {
        public bool Apply(long v, out int r) { r = (int)Calendar.FloorDiv(v, Values.MicrosPerDay); return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(long v) => "";
    }

    internal struct TimeOfDay : IUnaryOperation<long, long>
    {
        public bool Apply(long v, out long r) { r = Calendar.FloorMod(v, Values.MicrosPerDay); return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidCast;
        public string Describe(long v) => "";
    }

    public static Int128 Pow10(int exponent)
    {
        Int128 r = 1;
        for (int i = 0; i < exponent; i++) r *= 10;
        return r;
    }
}
