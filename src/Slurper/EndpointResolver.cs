using DataPlane.Storage;

namespace DataPlane.Slurper;

/// <summary>
/// Builds a side's endpoint from, in order of precedence: command-line flags, the environment
/// (<c>DATAPLANE_SLURP_FROM_ENDPOINT</c>, <c>..._ACCESS_KEY</c>, <c>..._SECRET_KEY</c>, <c>..._SESSION_TOKEN</c>, <c>..._REGION</c>,
/// <c>..._PATH_STYLE</c>, <c>..._PROFILE</c>; <c>TO</c> for the destination), then a named section of a profile file (INI:
/// <c>[name]</c> with <c>endpoint</c>, <c>access_key</c>, <c>secret_key</c>, <c>session_token</c>, <c>region</c>, <c>path_style</c>).
/// </summary>
public static class EndpointResolver
{
    public const string DefaultProfileFileName = "slurp-profiles.ini";

    public sealed record Flags(string? Endpoint, string? AccessKey, string? SecretKey, string? Region, string? Profile,
        string? SessionToken = null, bool? PathStyle = null);

    /// <param name="side"><c>from</c> or <c>to</c>.</param>
    public static StoreEndpoint Resolve(string side, string location, Flags flags, string? profileFile,
        Func<string, string?>? environment = null)
    {
        if (string.IsNullOrWhiteSpace(location))
            throw new ArgumentException($"--{side} is empty: give s3://bucket[/prefix] or a local folder path.");
        environment ??= Environment.GetEnvironmentVariable;
        var isS3 = location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);
        if (!isS3)
        {
            if (location.Contains("://", StringComparison.Ordinal) && !location.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--{side} '{location}' has an unknown scheme: use s3://bucket[/prefix], file:///path or a plain folder path.");
            return new StoreEndpoint(location, null);
        }
        if (location.Length <= "s3://".Length || location["s3://".Length] == '/')
            throw new ArgumentException($"--{side} '{location}' names no bucket: use s3://bucket[/prefix].");

        var prefix = "DATAPLANE_SLURP_" + side.ToUpperInvariant() + "_";
        var profileName = flags.Profile ?? environment(prefix + "PROFILE");
        var profile = profileName is null ? null : ReadProfile(profileFile ?? DefaultProfilePath(), profileName, side);

        string? Pick(string? flag, string envName, string profileKey) =>
            flag ?? environment(prefix + envName) ?? (profile is not null && profile.TryGetValue(profileKey, out var v) ? v : null);

        var endpoint = Pick(flags.Endpoint, "ENDPOINT", "endpoint");
        if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out _) || !IsHttp(endpoint)))
            throw new ArgumentException($"--{side}-endpoint '{endpoint}' is not an http(s) URL such as http://127.0.0.1:9000.");
        var pathStyle = Pick(flags.PathStyle is { } p ? (p ? "true" : "false") : null, "PATH_STYLE", "path_style") ?? "true";
        if (!bool.TryParse(pathStyle, out var isPathStyle))
            throw new ArgumentException($"--{side}-path-style '{pathStyle}' is not true or false.");
        return new StoreEndpoint(location, new S3Options
        {
            Endpoint = endpoint,
            AccessKey = Pick(flags.AccessKey, "ACCESS_KEY", "access_key"),
            SecretKey = Pick(flags.SecretKey, "SECRET_KEY", "secret_key"),
            SessionToken = Pick(flags.SessionToken, "SESSION_TOKEN", "session_token"),
            Region = Pick(flags.Region, "REGION", "region") ?? "us-east-1",
            PathStyle = isPathStyle,
        });
    }

    static bool IsHttp(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    public static string DefaultProfilePath() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dataplane", DefaultProfileFileName);

    static Dictionary<string, string> ReadProfile(string path, string name, string side)
    {
        if (!File.Exists(path))
            throw new ArgumentException($"--{side}-profile '{name}': the profile file '{path}' does not exist (use --profile-file).");
        var sections = new List<string>();
        Dictionary<string, string>? wanted = null;
        var inWanted = false;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '[' && line[^1] == ']')
            {
                var current = line[1..^1].Trim();
                sections.Add(current);
                inWanted = current == name;
                if (inWanted) wanted ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                continue;
            }
            var eq = line.IndexOf('=');
            if (inWanted && eq > 0) wanted![line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return wanted ?? throw new ArgumentException(
            $"--{side}-profile '{name}' is not in '{path}'; it has: {(sections.Count == 0 ? "no profiles" : string.Join(", ", sections))}.");
    }
}
