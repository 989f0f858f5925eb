// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// date_trunc, date_part (and EXTRACT, which the parser turns into date_part), now(). The part is a constant
/// checked when binding. now() is the processing time of the batch (one value per batch), never folded.
/// </summary>
internal static class TimeFunctions
{
    private static readonly string[] TruncParts = ["microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century", "millennium"];
    private static readonly string[] Parts = ["microsecond", "millisecond", "second", "minute", "hour", "day", "dow", "isodow", "doy", "week", "month", "quarter", "year", "decade", "century", "millennium", "epoch"];

    public static void Register(FunctionRegistry r)
    {
        r.Add(new ScalarFunction("date_trunc", "time", "date_trunc(part, timestamp): the start of the part (year, month, day, hour...) the timestamp is in",
            resolver: DateTrunc, signatures: $"date_trunc(part, TIMESTAMP | TIMESTAMP WITH TIME ZONE | DATE) with part one of {string.Join(", ", TruncParts)}"));
        r.Add(new ScalarFunction("date_part", "time", "date_part(part, timestamp), also EXTRACT(part FROM timestamp)",
            resolver: DatePart, signatures: $"date_part(part, TIMESTAMP | DATE | TIME) with part one of {string.Join(", ", Parts)}"));
        r.Alias("datepart", "date_part");
        // year(ts), month(ts)...: date_part with the part in the name, as DuckDB has them
        foreach (var (name, part) in new[] { ("year", "year"), ("month", "month"), ("day", "day"), ("hour", "hour"), ("minute", "minute"), ("second", "second"),
            ("quarter", "quarter"), ("week", "week"), ("dayofweek", "dow"), ("dayofyear", "doy"), ("isodow", "isodow"), ("millisecond", "millisecond"), ("microsecond", "microsecond") })
            r.Add(new ScalarFunction(name, "time", $"{name}(timestamp): date_part('{part}', timestamp)",
                resolver: a => a.Count == 1 ? DatePart([new ArgumentInfo(SqlType.Varchar, true, part, IsConstant: true), a[0]]) is { } b
                    ? b with { Parameters = [b.Parameters[1]], Compile = (k, t) => b.Compile([null!, k[0]], t) } : null : null,
                signatures: $"{name}(TIMESTAMP | DATE)"));
        r.Add(new ScalarFunction("now", "time", "the processing time of the batch", deterministic: false))
            .Add([], SqlType.TimestampTz, (a, t) => new NowKernel());
        r.Alias("current_timestamp", "now");
        r.Add(new ScalarFunction("current_date", "time", "the processing time's date (UTC)", deterministic: false))
            .Add([], SqlType.Date, (a, t) => new CurrentDateKernel());
        var ts = SqlType.Timestamp; var tz = SqlType.TimestampTz; var L = SqlType.BigInt; var D = SqlType.Double; var I = SqlType.Integer;
        r.Add(new ScalarFunction("date_add", "time", "date_add(timestamp, interval): the timestamp plus the interval (a DATE is read as its midnight)"))
            .Add([ts, SqlType.Interval], ts, (a, t) => new BinaryKernel<long, IntervalValue, long, ArithmeticOperators.AddInterval>(a[0], a[1], t, new ArithmeticOperators.AddInterval(1)))
            .Add([tz, SqlType.Interval], tz, (a, t) => new BinaryKernel<long, IntervalValue, long, ArithmeticOperators.AddInterval>(a[0], a[1], t, new ArithmeticOperators.AddInterval(1)));
        r.Add(new ScalarFunction("to_timestamp", "time", "to_timestamp(seconds): the TIMESTAMP WITH TIME ZONE that many seconds after 1970-01-01 UTC"))
            .Add([D], tz, (a, t) => new UnaryKernel<double, long, SecondsToTimestamp>(a[0], t));
        r.Add(new ScalarFunction("epoch_ms", "time", "epoch_ms(ms): the TIMESTAMP that many milliseconds after 1970-01-01; epoch_ms(timestamp): its milliseconds since then"))
            .Add([L], ts, (a, t) => new UnaryKernel<long, long, Scale>(a[0], t, new Scale(1000, multiply: true)))
            .Add([ts], L, (a, t) => new UnaryKernel<long, long, Scale>(a[0], t, new Scale(1000, multiply: false)))
            .Add([tz], L, (a, t) => new UnaryKernel<long, long, Scale>(a[0], t, new Scale(1000, multiply: false)));
        r.Add(new ScalarFunction("epoch_us", "time", "epoch_us(timestamp): microseconds since 1970-01-01"))
            .Add([ts], L, (a, t) => new UnaryKernel<long, long, Scale>(a[0], t, new Scale(1, multiply: false)))
            .Add([tz], L, (a, t) => new UnaryKernel<long, long, Scale>(a[0], t, new Scale(1, multiply: false)));
        r.Add(new ScalarFunction("epoch", "time", "epoch(timestamp): seconds since 1970-01-01, with the fraction"))
            .Add([ts], D, (a, t) => new UnaryKernel<long, double, Epoch>(a[0], t))
            .Add([tz], D, (a, t) => new UnaryKernel<long, double, Epoch>(a[0], t));
        r.Add(new ScalarFunction("make_timestamp", "time", "make_timestamp(year, month, day, hour, minute, seconds) or make_timestamp(microseconds since 1970-01-01); a date or time that does not exist fails the record"))
            .Add([L, L, L, L, L, D], ts, (a, t) => new RowKernel<long, MakeTimestamp>(a, t, default))
            .Add([L], ts, (a, t) => new UnaryKernel<long, long, Scale>(a[0], t, new Scale(1, multiply: true)));
        r.Add(new ScalarFunction("make_date", "time", "make_date(year, month, day); a date that does not exist fails the record"))
            .Add([L, L, L], SqlType.Date, (a, t) => new RowKernel<int, MakeDate>(a, t, default));
        r.Add(new ScalarFunction("strftime", "time", "strftime(timestamp, format): the timestamp as text, C's %-specifiers (DuckDB's)",
            resolver: a => Format(a, write: true), signatures: $"strftime(TIMESTAMP | DATE, constant format) -> VARCHAR with %{string.Join(" %", TimeFormat.Specifiers.ToCharArray())}"));
        r.Add(new ScalarFunction("strptime", "time", "strptime(text, format): the TIMESTAMP the text spells in the format; text that does not follow it fails the record",
            resolver: a => Format(a, write: false), signatures: "strptime(VARCHAR, constant format) -> TIMESTAMP"));
        r.Add(new ScalarFunction("try_strptime", "time", "try_strptime(text, format): as strptime, NULL where the text does not follow the format",
            resolver: a => Format(a, write: false, nullOnFailure: true), signatures: "try_strptime(VARCHAR, constant format) -> TIMESTAMP"));
    }

    private static FunctionBinding? Format(IReadOnlyList<ArgumentInfo> args, bool write, bool nullOnFailure = false)
    {
        if (args.Count != 2) return null;
        var input = write ? (args[0].Type.Kind == SqlTypeKind.TimestampTz ? SqlType.TimestampTz : SqlType.Timestamp) : SqlType.Varchar;
        if (ScalarFunction.ConversionCost(args[0], input) == int.MaxValue || ScalarFunction.ConversionCost(args[1], SqlType.Varchar) == int.MaxValue) return null;
        if (!args[1].IsConstant || args[1].ConstantValue is not string text)
            throw new ArgumentRefusedException(1, $"{(write ? "strftime" : "strptime")}'s format must be a constant string");
        var format = TimeFormat.Parse(text, forParsing: !write, out var error) ?? throw new ArgumentRefusedException(1, error!);
        return write
            ? new FunctionBinding([input, SqlType.Varchar], SqlType.Varchar, (k, t) => new StringRowKernel<WriteTime>([k[0]], t, new WriteTime(format)))
            : new FunctionBinding([input, SqlType.Varchar], SqlType.Timestamp, (k, t) =>
            {
                if (!nullOnFailure) return new RowKernel<long, ReadTime>([k[0]], t, new ReadTime(format, text));
                // as TRY_CAST: the text's own failures count, the parse's give NULL
                var input = new SharedKernel(k[0]);
                return new TryKernel(input, new RowKernel<long, ReadTime>([input], t, new ReadTime(format, text)));
            });
    }

    private struct WriteTime(TimeFormat format) : IStringRowFunction
    {
        private IArrowArray _ts;
        public void Prepare(IArrowArray[] args) => _ts = args[0];
        public readonly bool Write(int row, Utf8Builder output) { format.Write(Vectors.Values<long>(_ts)[row], output); return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    private struct ReadTime(TimeFormat format, string text) : IRowFunction<long>
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Apply(int row, out long value) => format.TryRead(_s.GetBytes(row), out value);
        public readonly RowErrorReason Reason => RowErrorReason.InvalidCast;
        public readonly string Describe(int row) => $"'{System.Text.Encoding.UTF8.GetString(_s.GetBytes(row))}' does not follow the format '{text}'";
    }

    /// <summary>seconds (DOUBLE) to a timestamp, rounded to the microsecond; out of the timestamp's range fails.</summary>
    private struct SecondsToTimestamp : IUnaryOperation<double, long>
    {
        public bool Apply(double seconds, out long r)
        {
            double micros = Math.Round(seconds * 1e6);
            r = 0;
            if (!(Math.Abs(micros) < 9.2e18)) return false;
            r = (long)micros;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(double v) => $"to_timestamp({v}) is out of the timestamp's range";
    }

    /// <summary>Multiplies (ms to µs) or divides (µs to ms) by a factor.</summary>
    private readonly struct Scale(long factor, bool multiply) : IUnaryOperation<long, long>
    {
        public bool Apply(long v, out long r)
        {
            if (!multiply) { r = v / factor; return true; } // towards zero, as DuckDB's epoch_ms
            r = unchecked(v * factor);
            return factor == 1 || (r / factor == v && Math.Abs(v) < long.MaxValue / factor);
        }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long v) => $"{v} * {factor} is out of the timestamp's range";
    }

    private struct MakeTimestamp : IRowFunction<long>
    {
        private IArrowArray[] _a;
        public void Prepare(IArrowArray[] args) => _a = args;
        public readonly bool Apply(int row, out long value)
        {
            value = 0;
            long y = L(0, row), m = L(1, row), d = L(2, row), h = L(3, row), mi = L(4, row);
            double s = Vectors.Values<double>(_a[5])[row];
            if (y is < -290_000 or > 290_000 || m is < 1 or > 12 || d < 1 || d > Calendar.DaysInMonth(y, (int)m)) return false;
            if (h is < 0 or > 24 || mi is < 0 or > 59 || !(s >= 0 && s <= 60)) return false;
            value = Calendar.DaysFromCivil(y, (int)m, (int)d) * Values.MicrosPerDay + (h * 60 + mi) * 60 * Values.MicrosPerSecond + (long)Math.Round(s * 1e6);
            return true;
        }
        private readonly long L(int i, int row) => Vectors.Values<long>(_a[i])[row];
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => $"make_timestamp({L(0, row)}, {L(1, row)}, {L(2, row)}, {L(3, row)}, {L(4, row)}, {Vectors.Values<double>(_a[5])[row]}) is no time";
    }

    private struct MakeDate : IRowFunction<int>
    {
        private IArrowArray[] _a;
        public void Prepare(IArrowArray[] args) => _a = args;
        public readonly bool Apply(int row, out int value)
        {
            value = 0;
            long y = L(0, row), m = L(1, row), d = L(2, row);
            if (y is < -5_000_000 or > 5_000_000 || m is < 1 or > 12 || d < 1 || d > Calendar.DaysInMonth(y, (int)m)) return false;
            value = Calendar.DaysFromCivil(y, (int)m, (int)d);
            return true;
        }
        private readonly long L(int i, int row) => Vectors.Values<long>(_a[i])[row];
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => $"make_date({L(0, row)}, {L(1, row)}, {L(2, row)}) is no date";
    }

    private sealed class CurrentDateKernel() : Kernel(SqlType.Date)
    {
        public override IArrowArray Evaluate(EvalContext context) =>
            ValueArrays.Repeat((int)Calendar.FloorDiv(context.NowMicros, Values.MicrosPerDay), Type, context.Length);
    }

    private static string? Part(ArgumentInfo a, string[] allowed)
    {
        if (!a.IsConstant || a.ConstantValue is not string s) return null;
        s = s.ToLowerInvariant().TrimEnd('s');
        s = s switch { "dayofweek" => "dow", "dayofyear" => "doy", "millisecon" => "millisecond", "microsecon" => "microsecond", "minutes" => "minute", _ => s };
        return Array.IndexOf(allowed, s) >= 0 ? s : null;
    }

    private static FunctionBinding? DateTrunc(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2 || Part(args[0], TruncParts) is not { } part) return null;
        var type = args[1].Type.Kind == SqlTypeKind.TimestampTz ? SqlType.TimestampTz : SqlType.Timestamp;
        if (ScalarFunction.ConversionCost(args[1], type) == int.MaxValue) return null;
        return new FunctionBinding([SqlType.Varchar, type], type, (k, t) => new UnaryKernel<long, long, Truncate>(k[1], t, new Truncate(part)));
    }

    private static FunctionBinding? DatePart(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2 || Part(args[0], Parts) is not { } part) return null;
        var returns = part == "epoch" ? SqlType.Double : SqlType.BigInt;
        if (args[1].Type.Kind == SqlTypeKind.Time)
        {
            if (part is not ("microsecond" or "millisecond" or "second" or "minute" or "hour" or "epoch")) return null;
            return new FunctionBinding([SqlType.Varchar, SqlType.Time], returns, (k, t) => Extract(k[1], t, part, time: true));
        }
        var type = args[1].Type.Kind == SqlTypeKind.TimestampTz ? SqlType.TimestampTz : SqlType.Timestamp;
        if (ScalarFunction.ConversionCost(args[1], type) == int.MaxValue) return null;
        return new FunctionBinding([SqlType.Varchar, type], returns, (k, t) => Extract(k[1], t, part, time: false));
    }

    private static Kernel Extract(Kernel operand, SqlType returns, string part, bool time) =>
        part == "epoch"
            ? new UnaryKernel<long, double, Epoch>(operand, returns)
            : new UnaryKernel<long, long, ExtractPart>(operand, returns, new ExtractPart(part, time));

    internal readonly struct Truncate(string part) : IUnaryOperation<long, long>
    {
        public bool Apply(long micros, out long r)
        {
            long day = Calendar.FloorDiv(micros, Values.MicrosPerDay);
            switch (part)
            {
                case "microsecond": r = micros; return true;
                case "millisecond": r = Calendar.FloorDiv(micros, 1000) * 1000; return true;
                case "second": r = Calendar.FloorDiv(micros, Values.MicrosPerSecond) * Values.MicrosPerSecond; return true;
                case "minute": r = Calendar.FloorDiv(micros, 60 * Values.MicrosPerSecond) * 60 * Values.MicrosPerSecond; return true;
                case "hour": r = Calendar.FloorDiv(micros, 3600 * Values.MicrosPerSecond) * 3600 * Values.MicrosPerSecond; return true;
                case "day": r = day * Values.MicrosPerDay; return true;
                case "week": r = (day - Calendar.FloorMod(day + 3, 7)) * Values.MicrosPerDay; return true; // 1970-01-01 was a Thursday; weeks start on Monday
            }
            var (y, m, _) = Calendar.CivilFromDays(day);
            (y, m) = part switch
            {
                "month" => (y, m),
                "quarter" => (y, (m - 1) / 3 * 3 + 1),
                "year" => (y, 1),
                "decade" => (Calendar.FloorDiv(y, 10) * 10, 1),
                "century" => (Calendar.FloorDiv(y - 1, 100) * 100 + 1, 1),
                _ => (Calendar.FloorDiv(y - 1, 1000) * 1000 + 1, 1),
            };
            r = Calendar.DaysFromCivil(y, m, 1) * Values.MicrosPerDay;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(long v) => "";
    }

    internal readonly struct ExtractPart(string part, bool time) : IUnaryOperation<long, long>
    {
        public bool Apply(long micros, out long r)
        {
            long day = time ? 0 : Calendar.FloorDiv(micros, Values.MicrosPerDay);
            long ofDay = micros - day * Values.MicrosPerDay;
            switch (part)
            {
                case "microsecond": r = ofDay % (60 * Values.MicrosPerSecond); return true;
                case "millisecond": r = ofDay % (60 * Values.MicrosPerSecond) / 1000; return true;
                case "second": r = ofDay / Values.MicrosPerSecond % 60; return true;
                case "minute": r = ofDay / (60 * Values.MicrosPerSecond) % 60; return true;
                case "hour": r = ofDay / (3600 * Values.MicrosPerSecond); return true;
                case "dow": r = Calendar.FloorMod(day + 4, 7); return true;
                case "isodow": r = Calendar.FloorMod(day + 3, 7) + 1; return true;
            }
            var (y, m, d) = Calendar.CivilFromDays(day);
            switch (part)
            {
                case "day": r = d; return true;
                case "month": r = m; return true;
                case "quarter": r = (m - 1) / 3 + 1; return true;
                case "year": r = y; return true;
                case "decade": r = Calendar.FloorDiv(y, 10); return true;
                case "century": r = y > 0 ? (y - 1) / 100 + 1 : -((-y) / 100 + 1); return true;
                case "millennium": r = y > 0 ? (y - 1) / 1000 + 1 : -((-y) / 1000 + 1); return true;
                case "doy": r = day - Calendar.DaysFromCivil(y, 1, 1) + 1; return true;
                case "week": r = IsoWeek(day); return true;
            }
            r = 0;
            return false;
        }

        private static long IsoWeek(long day)
        {
            // the ISO week of a day is the week of its Thursday, counted in that Thursday's year
            long thursday = day - Calendar.FloorMod(day + 3, 7) + 3;
            var (y, _, _) = Calendar.CivilFromDays(thursday);
            return (thursday - Calendar.DaysFromCivil(y, 1, 1)) / 7 + 1;
        }

        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(long v) => $"date part {part}";
    }

    internal struct Epoch : IUnaryOperation<long, double>
    {
        public bool Apply(long micros, out double r) { r = micros / 1e6; return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(long v) => "";
    }

    private sealed class NowKernel() : Kernel(SqlType.TimestampTz)
    {
        public override IArrowArray Evaluate(EvalContext context) => ValueArrays.Repeat(context.NowMicros, Type, context.Length);
    }
}
