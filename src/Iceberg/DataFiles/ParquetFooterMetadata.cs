using System.Buffers;
using System.Text;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Adds a key-value entry to a Parquet footer (the Thrift compact encoding of <c>FileMetaData</c>). Arrow's writer
/// writes footer keys only together with its own <c>ARROW:schema</c> entry, whose Arrow extension types (the uuid
/// column's) some readers cannot take (polars fails on the whole file); so files are written without either and the
/// <c>iceberg.schema</c> key is added here. Every other field is copied byte for byte.
/// </summary>
internal static class ParquetFooterMetadata
{
    private const byte BoolTrue = 1, BoolFalse = 2, Byte = 3, I16 = 4, I32 = 5, I64 = 6, Double = 7, Binary = 8, List = 9, Set = 10, Map = 11, Struct = 12, Uuid = 13;

    /// <summary><c>FileMetaData.key_value_metadata</c>: list&lt;KeyValue&gt;, between row_groups (4) and created_by (6).</summary>
    private const short KeyValueField = 5;

    /// <summary>The footer with a key_value_metadata list holding one entry, <paramref name="key"/> = <paramref name="value"/>.</summary>
    public static byte[] WithKeyValue(ReadOnlySpan<byte> fileMetaData, string key, string value)
    {
        // Top-level fields as (id, type, value bytes); values are copied as they are, headers are written anew
        // because compact headers hold the distance from the previous field id.
        var fields = new List<(short Id, byte Type, int Start, int End)>();
        int at = 0;
        short id = 0;
        while (true)
        {
            byte header = fileMetaData[at++];
            if (header == 0) break;
            byte type = (byte)(header & 0x0F);
            int delta = header >> 4;
            id = delta != 0 ? (short)(id + delta) : (short)ZigZag(ReadVarint(fileMetaData, ref at));
            int start = at;
            Skip(fileMetaData, ref at, type, depth: 0);
            fields.Add((id, type, start, at));
        }
        if (at != fileMetaData.Length)
            throw new InvalidDataException($"The Parquet footer has {fileMetaData.Length - at} bytes after its end.");
        if (fields.Exists(f => f.Id == KeyValueField))
            throw new InvalidOperationException("The Parquet footer already has key-value metadata.");

        var output = new ArrayBufferWriter<byte>(fileMetaData.Length + key.Length + value.Length + 64);
        short previous = 0;
        bool added = false;
        foreach (var (fieldId, type, start, end) in fields)
        {
            if (!added && fieldId > KeyValueField)
            {
                WriteKeyValueList(output, ref previous, key, value);
                added = true;
            }
            WriteFieldHeader(output, ref previous, fieldId, type);
            output.Write(fileMetaData[start..end]);
        }
        if (!added)
            WriteKeyValueList(output, ref previous, key, value);
        output.Write([(byte)0]);
        return output.WrittenSpan.ToArray();
    }

    private static void WriteKeyValueList(ArrayBufferWriter<byte> output, ref short previous, string key, string value)
    {
        WriteFieldHeader(output, ref previous, KeyValueField, List);
        output.Write([(byte)(1 << 4 | Struct)]); // one element
        short inner = 0;
        WriteFieldHeader(output, ref inner, 1, Binary);
        WriteBinary(output, key);
        WriteFieldHeader(output, ref inner, 2, Binary);
        WriteBinary(output, value);
        output.Write([(byte)0]);
    }

    private static void WriteFieldHeader(ArrayBufferWriter<byte> output, ref short previous, short id, byte type)
    {
        int delta = id - previous;
        if (delta is > 0 and <= 15)
            output.Write([(byte)(delta << 4 | type)]);
        else
        {
            output.Write([type]);
            WriteVarint(output, (ulong)((id << 1) ^ (id >> 15)));
        }
        previous = id;
    }

    private static void WriteBinary(ArrayBufferWriter<byte> output, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        WriteVarint(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Write([(byte)(value | 0x80)]);
            value >>= 7;
        }
        output.Write([(byte)value]);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("A varint in the Parquet footer is longer than 10 bytes.");
    }

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>Moves past one value of <paramref name="type"/> (a field's value: booleans have none, their type is their value).</summary>
    private static void Skip(ReadOnlySpan<byte> data, ref int at, byte type, int depth)
    {
        if (depth > 64)
            throw new InvalidDataException("The Parquet footer nests deeper than 64 levels.");
        switch (type)
        {
            case BoolTrue or BoolFalse:
                break;
            case Byte:
                at++;
                break;
            case I16 or I32 or I64:
                ReadVarint(data, ref at);
                break;
            case Double:
                at += 8;
                break;
            case Binary:
            {
                int length = checked((int)ReadVarint(data, ref at));
                at += length;
                break;
            }
            case Uuid:
                at += 16;
                break;
            case List or Set:
            {
                byte header = data[at++];
                long count = header >> 4 == 15 ? (long)ReadVarint(data, ref at) : header >> 4;
                byte elementType = (byte)(header & 0x0F);
                for (long i = 0; i < count; i++)
                    SkipElement(data, ref at, elementType, depth + 1);
                break;
            }
            case Map:
            {
                long count = (long)ReadVarint(data, ref at);
                if (count == 0) break;
                byte types = data[at++];
                for (long i = 0; i < count; i++)
                {
                    SkipElement(data, ref at, (byte)(types >> 4), depth + 1);
                    SkipElement(data, ref at, (byte)(types & 0x0F), depth + 1);
                }
                break;
            }
            case Struct:
            {
                while (true)
                {
                    byte header = data[at++];
                    if (header == 0) break;
                    if (header >> 4 == 0)
                        ReadVarint(data, ref at); // a field id that did not fit in the header
                    Skip(data, ref at, (byte)(header & 0x0F), depth + 1);
                }
                break;
            }
            default:
                throw new InvalidDataException($"Unknown Thrift compact type {type} in the Parquet footer.");
        }
    }

    /// <summary>Collection elements: a boolean element is one byte.</summary>
    private static void SkipElement(ReadOnlySpan<byte> data, ref int at, byte type, int depth)
    {
        if (type is BoolTrue or BoolFalse)
            at++;
        else
            Skip(data, ref at, type, depth);
    }
}
