using System.Globalization;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Scanning;

/// <summary>Converts a filter literal to the in-memory value of a column's type, or explains why it cannot.</summary>
internal static class LiteralConverter
{
    private static readonly DateTime Epoch = DateTime.UnixEpoch;

    public static object To(PrimitiveType type, object value, string column)
    {
        try
        {
            return type.TypeId switch
            {
                TypeId.Boolean => value is string s ? bool.Parse(s) : Convert.ToBoolean(value, CultureInfo.InvariantCulture),
                TypeId.Int => Convert.ToInt32(value, CultureInfo.InvariantCulture),
                TypeId.Long => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                TypeId.Float => Convert.ToSingle(value, CultureInfo.InvariantCulture),
                TypeId.Double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
                TypeId.Decimal => Conversions.ToDecimalValue((DecimalType)type, value),
                TypeId.String => value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture)!,
                TypeId.Uuid => value is Guid g ? g : Guid.Parse((string)value),
                TypeId.Fixed or TypeId.Binary => (byte[])value,
                TypeId.Date => value switch
                {
                    DateOnly d => d.DayNumber - DateOnly.FromDateTime(Epoch).DayNumber,
                    DateTime dt => DateOnly.FromDateTime(dt).DayNumber - DateOnly.FromDateTime(Epoch).DayNumber,
                    string s => DateOnly.Parse(s, CultureInfo.InvariantCulture).DayNumber - DateOnly.FromDateTime(Epoch).DayNumber,
                    _ => Convert.ToInt32(value, CultureInfo.InvariantCulture),
                },
                TypeId.Time => value switch
                {
                    TimeOnly t => t.Ticks / 10,
                    TimeSpan t => t.Ticks / 10,
                    string s => TimeOnly.Parse(s, CultureInfo.InvariantCulture).Ticks / 10,
                    _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                },
                TypeId.Timestamp or TypeId.TimestampTz => value switch
                {
                    DateTimeOffset o => (o.UtcDateTime - Epoch).Ticks / 10,
                    DateTime dt => ((dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime() : dt) - Epoch).Ticks / 10,
                    string s => (DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime - Epoch).Ticks / 10,
                    _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                },
                _ => throw new NotSupportedException(),
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidCastException or OverflowException or NotSupportedException)
        {
            throw new ArgumentException($"Literal '{value}' ({value.GetType().Name}) cannot be compared with column '{column}' of type {type}.", e);
        }
    }
}
