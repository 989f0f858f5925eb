namespace DataPlane.Iceberg.Maintenance;

/// <summary>How compaction lays out the rows it rewrites, by the names of Iceberg's <c>rewrite_data_files</c>.</summary>
public enum RewriteStrategy
{
    /// <summary>Rows in the order they are read, files packed near the target size.</summary>
    BinPack,
    /// <summary>Each file group's rows sorted by a sort order or z-ordered, then cut into files near the target size.</summary>
    Sort,
}

public static class RewriteStrategies
{
    public static string Name(this RewriteStrategy strategy) => strategy == RewriteStrategy.Sort ? "sort" : "binpack";

    /// <exception cref="ArgumentException">Neither <c>binpack</c> nor <c>sort</c>; the message names <paramref name="what"/> and the value.</exception>
    public static RewriteStrategy Parse(string text, string what) => text.Trim().ToLowerInvariant() switch
    {
        "binpack" => RewriteStrategy.BinPack,
        "sort" => RewriteStrategy.Sort,
        _ => throw new ArgumentException($"{what} is '{(text.Length <= 100 ? text : text[..100] + "...")}'; it must be binpack or sort."),
    };
}
