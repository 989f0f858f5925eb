namespace DataPlane.Pipelines.Lookups;

/// <summary>The size check both kinds of lookup table share: one message, naming the table, its size and the setting.</summary>
internal static class LookupLimits
{
    public static void CheckSize(string table, long bytes, long max)
    {
        if (bytes > max)
            throw new ArgumentException($"Table '{table}' is {Megabytes(bytes)} ({bytes} bytes); a lookup join loads tables of at most {Megabytes(max)} "
                + $"(setting Pipelines:{nameof(PipelinesOptions.MaxLookupTableBytes)}, environment DATAPLANE_PIPELINES__{nameof(PipelinesOptions.MaxLookupTableBytes).ToUpperInvariant()}).");
    }

    private static string Megabytes(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + " MiB";
}
