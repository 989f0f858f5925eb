using System.Security.Cryptography;

namespace DataPlane.WebConsole;

/// <summary>
/// The console's files, embedded in the binary (<c>WebConsole/assets</c>, resource names <c>console/PATH</c>): read
/// once, each with its content type and an ETag from its bytes, so the console works offline and matches the binary.
/// </summary>
internal sealed class ConsoleAssets
{
    private const string Prefix = "console/";

    private readonly Dictionary<string, ConsoleAsset> _assets;

    private ConsoleAssets(Dictionary<string, ConsoleAsset> assets) => _assets = assets;

    public static ConsoleAssets Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var name = resource.Replace('\\', '/');
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            var path = name[Prefix.Length..];
            assets[path] = new ConsoleAsset(bytes, ContentType(path), "\"" + Convert.ToHexString(SHA256.HashData(bytes), 0, 12).ToLowerInvariant() + "\"");
        }
        return new ConsoleAssets(assets);
    }

    public ConsoleAsset? Find(string path) => _assets.GetValueOrDefault(path);

    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>What the console adds to the binary.</summary>
    public long TotalBytes => _assets.Values.Sum(a => (long)a.Body.Length);

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json",
        _ => "text/plain; charset=utf-8",
    };
}

internal sealed record ConsoleAsset(byte[] Body, string ContentType, string ETag);
