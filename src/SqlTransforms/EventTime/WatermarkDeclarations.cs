using Apache.Arrow;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.EventTime;

/// <summary>
/// The watermarks of a program's sources: those the pipeline runtime gives (from the streams' JSON) and those the
/// SQL declares (<c>WATERMARK FOR [stream.]ts AS ts - INTERVAL '5' SECOND [IDLE TIMEOUT INTERVAL '30' SECOND]</c>),
/// each checked against its source's schema: a TIMESTAMP column, a constant delay of at least zero.
/// </summary>
internal static class WatermarkDeclarations
{
    public static Dictionary<string, WatermarkDefinition> Resolve(string sql, IReadOnlyList<SqlStatement> statements, IReadOnlyDictionary<string, Schema> sources,
        IReadOnlyDictionary<string, WatermarkDefinition>? given)
    {
        var result = new Dictionary<string, WatermarkDefinition>(StringComparer.Ordinal);
        foreach (var (source, definition) in given ?? new Dictionary<string, WatermarkDefinition>())
        {
            if (!sources.TryGetValue(source, out var schema))
                throw new ArgumentException($"a watermark is given for \"{source}\", which is not a source of the program", nameof(given));
            var field = schema.FieldsList.FirstOrDefault(f => f.Name.Equals(definition.Column, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"the watermark of \"{source}\" names the column \"{definition.Column}\", which \"{source}\" does not have", nameof(given));
            if (ArrowTypes.FromArrow(field, out _) is not { IsTimestamp: true } type)
                throw new ArgumentException($"the watermark of \"{source}\" reads \"{field.Name}\", which is not a TIMESTAMP", nameof(given));
            result[source] = definition with { Column = field.Name };
        }
        foreach (var statement in statements)
        {
            if (statement is not SqlStatement.Watermark w) continue;
            SqlException Error(int position, string problem) => new(problem, SourcePosition.At(sql, position), sql);
            string source;
            if (w.Stream is { } stream)
                source = sources.Keys.FirstOrDefault(k => stream.Matches(k) && k == stream.Text) ?? sources.Keys.FirstOrDefault(stream.Matches)
                    ?? throw Error(stream.Position, $"there is no stream named \"{stream.Text}\" (streams: {string.Join(", ", sources.Keys)})");
            else if (sources.Count == 1) source = sources.Keys.First();
            else throw Error(w.Column.Position, $"name the stream of the watermark: WATERMARK FOR stream.{w.Column.Text} AS ... (streams: {string.Join(", ", sources.Keys)})");
            var field = sources[source].FieldsList.FirstOrDefault(f => w.Column.Matches(f.Name))
                ?? throw Error(w.Column.Position, $"the stream \"{source}\" has no column \"{w.Column.Text}\"");
            var type = ArrowTypes.FromArrow(field, out _);
            if (type is not { IsTimestamp: true })
                throw Error(w.Column.Position, $"the event time column \"{field.Name}\" is {type?.ToString() ?? field.DataType.Name}; it must be a TIMESTAMP");
            if (result.TryGetValue(source, out var earlier))
                throw Error(w.Start, given?.ContainsKey(source) == true
                    ? $"the stream \"{source}\" declares its watermark itself (on \"{earlier.Column}\", in its definition's \"watermark\"), which this pipeline uses; leave out WATERMARK FOR, or declare it in one place only"
                    : $"the stream \"{source}\" already has a watermark");
            string shape = $"WATERMARK FOR {w.Column.Text} AS {w.Column.Text} - INTERVAL '5' SECOND";
            long delay = w.Expression switch
            {
                SqlExpression.ColumnRef c when c.Parts.Count == 1 && c.Parts[0].Matches(field.Name) => 0,
                SqlExpression.Binary { Operator: "-", Left: SqlExpression.ColumnRef c, Right: SqlExpression.IntervalLiteral i } when c.Parts.Count == 1 && c.Parts[0].Matches(field.Name) =>
                    Micros(i, Error, "delay"),
                _ => throw Error(w.Expression.Start, $"a watermark is its column minus a constant interval: {shape}"),
            };
            long? idle = w.IdleTimeout switch
            {
                null => null,
                SqlExpression.IntervalLiteral i => Micros(i, Error, "idle timeout"),
                var e => throw Error(e.Start, "IDLE TIMEOUT takes an interval, such as INTERVAL '30' SECOND"),
            };
            result[source] = new WatermarkDefinition(field.Name, TimeSpan.FromMicroseconds(delay), idle is { } t ? TimeSpan.FromMicroseconds(t) : null);
        }
        return result;
    }

    private static long Micros(SqlExpression.IntervalLiteral i, Func<int, string, SqlException> error, string what)
    {
        if (!ValueText.TryParseInterval(i.Text, i.Unit, out var interval) || interval.Months != 0)
            throw error(i.Start, $"the watermark's {what} must be an interval without months or years, such as INTERVAL '5' SECOND");
        long micros = interval.Days * IntervalValue.MicrosPerDay + interval.Micros;
        if (micros < 0) throw error(i.Start, $"the watermark's {what} must not be negative");
        return micros;
    }
}
