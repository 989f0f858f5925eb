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
        r.Add(new ScalarFunction("now", "time", "the processing time of the batch", deterministic: false))
            .Add([], SqlType.TimestampTz, (a, t) => new NowKernel());
        r.Alias("current_timestamp", "now");
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
