using Microsoft.Extensions.Configuration;

namespace DataPlane.Hosting;

/// <summary>Layers the configuration sources in their documented order and binds <see cref="DataPlaneOptions"/>.</summary>
internal static class DataPlaneConfiguration
{
    public const string FileName = "dataplane.json";
    public const string EnvironmentPrefix = "DATAPLANE_";

    /// <param name="configFile">An explicit config file (must exist), or null to use <c>./dataplane.json</c> when present.</param>
    /// <param name="flags">Only the flags the user actually gave, keyed like the options (<c>Port</c>, <c>Data</c>...).</param>
    public static (DataPlaneOptions Options, IConfigurationRoot Configuration) Load(string? configFile, IReadOnlyDictionary<string, string?> flags)
    {
        if (configFile is not null && !File.Exists(configFile))
            throw new FileNotFoundException($"Configuration file '{configFile}' does not exist.", configFile);

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(configFile ?? FileName), optional: configFile is null, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddInMemoryCollection(CatalogUrlVariable())
            .AddInMemoryCollection(flags)
            .Build();

        var options = new DataPlaneOptions();
        configuration.Bind(options);
        Validate(options);
        return (options, configuration);
    }

    /// <summary><c>DATAPLANE_CATALOG_URL</c>, the name scale-out setups use, as <c>Catalog:Url</c> (<c>DATAPLANE_CATALOG__URL</c> works too).</summary>
    private static Dictionary<string, string?> CatalogUrlVariable() =>
        Environment.GetEnvironmentVariable(EnvironmentPrefix + "CATALOG_URL") is { Length: > 0 } url
            ? new() { ["Catalog:Url"] = url }
            : [];

    private static void Validate(DataPlaneOptions options)
    {
        if (!Enum.TryParse<Pipelines.ProcessRole>(options.Role, ignoreCase: true, out var role) || int.TryParse(options.Role, out _))
            throw new ArgumentException($"Role '{options.Role}' is unknown; use all, ingest, worker or catalog.");
        var url = options.Catalog.Url;
        if (role is Pipelines.ProcessRole.Ingest or Pipelines.ProcessRole.Worker)
        {
            if (string.IsNullOrWhiteSpace(url))
                throw new ArgumentException($"--role {role.ToString().ToLowerInvariant()} needs the catalog process's address: --catalog URL " +
                    "(environment DATAPLANE_CATALOG_URL, or \"Catalog\": {\"Url\": ...} in dataplane.json), e.g. --catalog http://127.0.0.1:8181.");
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"Catalog URL '{url}' is not an http:// or https:// address such as http://127.0.0.1:8181.");
        }
        else if (!string.IsNullOrWhiteSpace(url))
            throw new ArgumentException($"Catalog URL '{url}' is for --role ingest or worker; a process with --role {role.ToString().ToLowerInvariant()} serves its own catalog.");
        if (options.Port is < 0 or > 65535)
            throw new ArgumentException($"Port {options.Port} is out of range; use 0-65535 (0 picks a free port).");
        if (string.IsNullOrWhiteSpace(options.Host))
            throw new ArgumentException("Host is empty; give an address such as 127.0.0.1 or 0.0.0.0.");
        if (options.LogFormat is not (null or "json" or "simple"))
            throw new ArgumentException($"Log format '{options.LogFormat}' is unknown; use 'json' or 'simple'.");
        if (!(options.Databases.StatementTimeoutSeconds is > 0 and <= 86_400))
            throw new ArgumentException($"Databases:StatementTimeoutSeconds {options.Databases.StatementTimeoutSeconds} is out of range; use a number of seconds above 0, at most 86400.");
        if (options.Databases.MaxDatabases < 1)
            throw new ArgumentException($"Databases:MaxDatabases {options.Databases.MaxDatabases} is out of range; use 1 or more.");
        options.Maintenance.Validate();
        RestCatalogSettings.Validate(options);
    }
}
