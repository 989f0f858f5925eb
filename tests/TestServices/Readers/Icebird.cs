using System.Text.Json;

namespace DataPlane.TestServices.Readers;

/// <summary>Runs the npm package icebird (pinned in icebird/package.json), an independent Iceberg reader, and returns its rows.</summary>
public static class Icebird
{
    private static readonly NodeFolder Folder = new("icebird", "icebird");

    /// <summary>Reads the table at an http(s) URL (its <c>version-hint.text</c> names the metadata file).</summary>
    public static Task<List<JsonElement>> ReadAsync(Uri tableUrl) => ReadAsync(tableUrl.ToString(), metadataFileName: null, s3Endpoint: null);

    /// <summary>
    /// Reads the table at <paramref name="tableLocation"/> (an <c>s3://</c> location when <paramref name="s3Endpoint"/> is
    /// given: every <c>s3://</c> file is then read from that path-style endpoint), starting from
    /// <c>metadata/<paramref name="metadataFileName"/></c>, or from <c>version-hint.text</c> when it is null.
    /// </summary>
    public static async Task<List<JsonElement>> ReadAsync(string tableLocation, string? metadataFileName, Uri? s3Endpoint)
    {
        string[] args = metadataFileName is null ? ["read-table.mjs", tableLocation.TrimEnd('/')] : ["read-table.mjs", tableLocation.TrimEnd('/'), metadataFileName];
        var environment = s3Endpoint is null ? null : new Dictionary<string, string> { ["S3_ENDPOINT"] = s3Endpoint.ToString() };
        using var doc = JsonDocument.Parse(await Folder.RunAsync(environment, args));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>
    /// Reads the given snapshots (older ones, branches', tags') of the table at <paramref name="tableLocation"/> in one
    /// run, from <c>metadata/<paramref name="metadataFileName"/></c>: per snapshot id, its rows, or the error icebird
    /// gave for it. With <paramref name="localFolder"/> (a <c>file:///</c> location prefix) and
    /// <paramref name="httpFolder"/> (where <see cref="HttpFileServer"/> serves that folder), every location under the
    /// prefix is fetched over HTTP instead (icebird cannot open file:// URLs).
    /// </summary>
    public static async Task<Dictionary<long, (List<JsonElement>? Rows, string? Error)>> ReadSnapshotsAsync(string tableLocation, string metadataFileName,
        IReadOnlyCollection<long> snapshotIds, Uri? s3Endpoint = null, string? localFolder = null, Uri? httpFolder = null)
    {
        var environment = new Dictionary<string, string>();
        if (s3Endpoint is not null) environment["S3_ENDPOINT"] = s3Endpoint.ToString();
        if (localFolder is not null && httpFolder is not null)
        {
            environment["LOCATION_FROM"] = localFolder;
            environment["LOCATION_TO"] = httpFolder.ToString();
        }
        var ids = string.Join(",", snapshotIds.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var doc = JsonDocument.Parse(await Folder.RunAsync(environment, "read-table.mjs", tableLocation.TrimEnd('/'), metadataFileName, ids));
        var result = new Dictionary<long, (List<JsonElement>?, string?)>();
        foreach (var snapshot in doc.RootElement.EnumerateObject())
        {
            long id = long.Parse(snapshot.Name, System.Globalization.CultureInfo.InvariantCulture);
            result[id] = snapshot.Value.TryGetProperty("rows", out var rows)
                ? (rows.EnumerateArray().Select(e => e.Clone()).ToList(), null)
                : (null, snapshot.Value.GetProperty("error").GetString());
        }
        return result;
    }

    /// <summary>
    /// Reads tables (location and metadata file name each), every location under <paramref name="localFolder"/> (a
    /// <c>file:///</c> prefix) fetched from <paramref name="httpFolder"/>: per location, its rows with each value in the
    /// canonical form of parquet-readers/canonical.mjs.
    /// </summary>
    public static async Task<Dictionary<string, List<JsonElement>>> ReadCanonicalAsync(IEnumerable<(string Location, string MetadataFileName)> tables,
        string localFolder, Uri httpFolder)
    {
        var environment = new Dictionary<string, string> { ["LOCATION_FROM"] = localFolder, ["LOCATION_TO"] = httpFolder.ToString() };
        var args = new List<string> { "read-canonical.mjs" };
        foreach (var (location, metadata) in tables)
            args.AddRange([location.TrimEnd('/'), metadata]);
        using var doc = JsonDocument.Parse(await Folder.RunAsync(environment, [.. args]));
        return doc.RootElement.EnumerateObject().ToDictionary(t => t.Name, t => t.Value.EnumerateArray().Select(e => e.Clone()).ToList());
    }
}
