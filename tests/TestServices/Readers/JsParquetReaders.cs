using System.Text.Json;

namespace DataPlane.TestServices.Readers;

/// <summary>
/// The JavaScript Parquet readers pinned in parquet-readers/package.json: arrow-rs (npm parquet-wasm), polars
/// (nodejs-polars) and hyparquet. Each returns, per file, its rows with every value in the canonical form of
/// parquet-readers/canonical.mjs.
/// </summary>
public static class JsParquetReaders
{
    public const string ParquetWasm = "parquet-wasm";
    public const string Polars = "polars";
    public const string Hyparquet = "hyparquet";

    private static readonly NodeFolder Folder = new("parquet-readers", "parquet-wasm");

    public static async Task<Dictionary<string, List<JsonElement>>> ReadAsync(string reader, IEnumerable<string> files)
    {
        using var doc = JsonDocument.Parse(await Folder.RunAsync(null, ["read-parquet.mjs", reader, .. files]));
        return doc.RootElement.EnumerateObject().ToDictionary(f => f.Name, f => f.Value.EnumerateArray().Select(e => e.Clone()).ToList());
    }
}
