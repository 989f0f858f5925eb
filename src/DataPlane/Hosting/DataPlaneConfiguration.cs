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
            .AddInMemoryCollection(flags)
            .Build();

        var options = new DataPlaneOptions();
        configuration.Bind(options);
        Validate(options);
        return (options, configuration);
    }

    private static void Validate(DataPlaneOptions options)
    {
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
