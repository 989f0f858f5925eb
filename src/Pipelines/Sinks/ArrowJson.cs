using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// One Arrow value as JSON, in the shapes ingestion accepts: ISO 8601 dates and times, decimals as exact numbers,
/// binary as base64, uuids as text, structs and maps as objects, lists as arrays.
/// </summary>
internal static class ArrowJson
{
    private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

    /// <summary>One row as a JSON object of its columns.</summary>
    /// <param name="names">The column names encoded once, for a writer of many rows; null to take them from the schema.</param>
    public static void WriteRow(Utf8JsonWriter w, RecordBatch batch, int row, JsonEncodedText[]? names = null)
    {
        w.WriteStartObject();
        for (int c = 0; c < batch.ColumnCount; c++)
        {
            if (names is null)
                w.WritePropertyName(batch.Schema.FieldsList[c].Name);
            else
                w.WritePropertyName(names[c]);
            WriteValue(w, batch.Column(c), row);
        }
        w.WriteEndObject();
    }

    public static void WriteValue(Utf8JsonWriter w, IArrowArray array, int index)
    {
        if (array.IsNull(index))
        {
            w.WriteNullValue();
            return;
        }
        switch (array)
        {
            case BooleanArray a: w.WriteBooleanValue(a.GetValue(index)!.Value); break;
            case Int32Array a: w.WriteNumberValue(a.Values[index]); break;
            case Int64Array a: w.WriteNumberValue(a.Values[index]); break;
            case FloatArray a: w.WriteNumberValue(a.Values[index]); break;
            case DoubleArray a: w.WriteNumberValue(a.Values[index]); break;
            case Date32Array a:
                w.WriteStringValue(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + a.Values[index]).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case Time64Array a:
                w.WriteStringValue(new TimeOnly(a.Values[index] * TimeSpan.TicksPerMicrosecond).ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
                break;
            case TimestampArray a:
            {
                var time = new DateTime(EpochTicks + a.Values[index] * TimeSpan.TicksPerMicrosecond, DateTimeKind.Utc);
                bool zoned = !string.IsNullOrEmpty(((TimestampType)a.Data.DataType).Timezone);
                Span<byte> text = stackalloc byte[32];
                time.TryFormat(text, out int n, zoned ? "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
                w.WriteStringValue(text[..n]);
                break;
            }
            case StringArray a: w.WriteStringValue(a.GetBytes(index)); break;
            case BinaryArray a: w.WriteBase64StringValue(a.GetBytes(index)); break;
            case Decimal128Array a: WriteDecimal(w, a, index); break;
            case FixedSizeBinaryArray a when ((FixedSizeBinaryType)a.Data.DataType).ByteWidth == 16:
                // Streams have no fixed[16] type: 16-byte fixed columns are their uuids.
                w.WriteStringValue(new Guid(a.GetBytes(index), bigEndian: true));
                break;
            case FixedSizeBinaryArray a: w.WriteBase64StringValue(a.GetBytes(index)); break;
            case StructArray a:
            {
                var type = (StructType)a.Data.DataType;
                w.WriteStartObject();
                for (int f = 0; f < type.Fields.Count; f++)
                {
                    w.WritePropertyName(type.Fields[f].Name);
                    WriteValue(w, a.Fields[f], index);
                }
                w.WriteEndObject();
                break;
            }
            case MapArray a:
            {
                var keys = (StringArray)a.Keys;
                w.WriteStartObject();
                for (int i = a.ValueOffsets[index]; i < a.ValueOffsets[index + 1]; i++)
                {
                    w.WritePropertyName(keys.GetBytes(i));
                    WriteValue(w, a.Values, i);
                }
                w.WriteEndObject();
                break;
            }
            case ListArray a:
            {
                w.WriteStartArray();
                for (int i = a.ValueOffsets[index]; i < a.ValueOffsets[index + 1]; i++)
                    WriteValue(w, a.Values, i);
                w.WriteEndArray();
                break;
            }
            default:
                throw new NotSupportedException($"Writing {array.Data.DataType.Name} values as JSON is not supported.");
        }
    }

    /// <summary>The exact digits of the unscaled value with the point put back: JSON numbers are arbitrary precision.</summary>
    private static void WriteDecimal(Utf8JsonWriter w, Decimal128Array array, int index)
    {
        var type = (Decimal128Type)array.Data.DataType;
        var unscaled = BinaryPrimitives.ReadInt128LittleEndian(array.ValueBuffer.Span.Slice((array.Offset + index) * 16, 16));
        Span<byte> digits = stackalloc byte[48];
        bool negative = unscaled < 0;
        var magnitude = negative ? (UInt128)(-(unscaled + 1)) + 1 : (UInt128)unscaled;
        magnitude.TryFormat(digits, out int n, default, CultureInfo.InvariantCulture);
        Span<byte> text = stackalloc byte[48 + 3];
        int length = 0;
        if (negative)
            text[length++] = (byte)'-';
        int scale = type.Scale;
        if (scale > 0)
        {
            int whole = n - scale;
            if (whole <= 0)
            {
                text[length++] = (byte)'0';
                text[length++] = (byte)'.';
                for (int z = whole; z < 0; z++)
                    text[length++] = (byte)'0';
                digits[..n].CopyTo(text[length..]);
                length += n;
            }
            else
            {
                digits[..whole].CopyTo(text[length..]);
                length += whole;
                text[length++] = (byte)'.';
                digits[whole..n].CopyTo(text[length..]);
                length += scale;
            }
        }
        else
        {
            digits[..n].CopyTo(text[length..]);
            length += n;
        }
        w.WriteRawValue(text[..length], skipInputValidation: true);
    }
}
