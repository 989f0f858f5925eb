namespace DataPlane.Storage;

internal static class RangeCheck
{
    /// <summary>Validates a range against the object's size and returns how many bytes it covers (clamped to the end, as S3 does).</summary>
    public static long Length(ByteRange range, long size, string key)
    {
        if (range.Offset < 0 || range.Length is <= 0)
            throw new ArgumentOutOfRangeException(nameof(range), $"Invalid range {range} for '{key}': the offset must be >= 0 and the length > 0.");
        if (range.Offset >= size && !(size == 0 && range.Offset == 0))
            throw new ArgumentOutOfRangeException(nameof(range), $"Range {range} starts past the end of '{key}' ({size} bytes).");
        var available = size - range.Offset;
        return range.Length is { } n ? Math.Min(n, available) : available;
    }
}
