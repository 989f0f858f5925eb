namespace DataPlane.Iceberg.Types;

/// <summary>Orders in-memory values (see <see cref="Conversions"/>) of one primitive type as Iceberg does:
/// strings by code point (UTF-8 byte order), binary as unsigned bytes, uuids as big-endian bytes.</summary>
public static class ValueComparer
{
    public static int Compare(PrimitiveType type, object a, object b)
    {
        switch (type.TypeId)
        {
            case TypeId.String: return CompareUtf8((string)a, (string)b);
            case TypeId.Uuid:
                return ((ReadOnlySpan<byte>)((Guid)a).ToByteArray(true)).SequenceCompareTo(((Guid)b).ToByteArray(true));
            case TypeId.Fixed:
            case TypeId.Binary:
                return ((ReadOnlySpan<byte>)(byte[])a).SequenceCompareTo((byte[])b);
            case TypeId.Boolean: return ((bool)a).CompareTo((bool)b);
            case TypeId.Int:
            case TypeId.Date: return Convert.ToInt64(a, System.Globalization.CultureInfo.InvariantCulture).CompareTo(Convert.ToInt64(b, System.Globalization.CultureInfo.InvariantCulture));
            case TypeId.Long:
            case TypeId.Time:
            case TypeId.Timestamp:
            case TypeId.TimestampTz: return Convert.ToInt64(a, System.Globalization.CultureInfo.InvariantCulture).CompareTo(Convert.ToInt64(b, System.Globalization.CultureInfo.InvariantCulture));
            case TypeId.Float:
            case TypeId.Double: return Convert.ToDouble(a, System.Globalization.CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture));
            case TypeId.Decimal: return AsDecimal((DecimalType)type, a).CompareTo(AsDecimal((DecimalType)type, b));
            default: throw new NotSupportedException($"Values of {type} are not ordered.");
        }
    }

    private static DecimalValue AsDecimal(DecimalType type, object value) => value switch
    {
        DecimalValue d => d,
        decimal m => m,
        _ => Conversions.ToDecimalValue(type, value),
    };

    private static int CompareUtf8(string a, string b)
    {
        // Ordinal UTF-16 order differs from code-point order only around surrogates; compare code points there.
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var x = a[i];
            var y = b[i];
            if (x == y) continue;
            if (char.IsSurrogate(x) != char.IsSurrogate(y))
                return char.IsSurrogate(x) ? 1 : -1; // a surrogate encodes a code point above every BMP char
            return x.CompareTo(y);
        }
        return a.Length.CompareTo(b.Length);
    }
}
