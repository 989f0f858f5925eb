using System.CommandLine;
using System.Text.Json.Nodes;
using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Hosting;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Storage;

namespace DataPlane.Commands;

/// <summary>
/// The catalog the <c>dataplane table</c> commands work on. By default the embedded one: the SQLite file and
/// warehouse under the data directory that <c>dataplane serve</c> uses (same <c>--data</c>, <c>--warehouse</c>,
/// <c>--config</c>, <c>dataplane.json</c> and <c>DATAPLANE_*</c> settings), opened in this process, so a table created
/// here is served by <c>serve</c> and the other way round. With <c>--server URL</c>, a running server's Iceberg REST
/// catalog at <c>URL/iceberg</c> instead.
/// </summary>
internal sealed class TableCatalog : IDisposable
{
    private TableCatalog(ICatalog catalog, string? dataDirectory = null)
    {
        Catalog = catalog;
        DataDirectory = dataDirectory;
    }

    /// <summary>The catalog the commands work on: the embedded one or a server's.</summary>
    public ICatalog Catalog { get; }

    /// <summary>The data directory of the embedded catalog (where <c>dataplane serve</c> keeps its pipelines' state); null with <c>--server</c>.</summary>
    public string? DataDirectory { get; }

    /// <summary>The options every table command takes to pick its catalog.</summary>
    internal sealed record Options(Option<string?> Server, Option<string?> Token, Option<string?> Data, Option<string?> Warehouse, Option<string?> Config)
    {
        public static Options Create() => new(
            new Option<string?>("--server") { Description = "Work through a running server's REST catalog at URL/iceberg (e.g. http://127.0.0.1:8181) instead of the data directory (default: DATAPLANE_SERVER, unless --data or --warehouse is given)" },
            new Option<string?>("--token") { Description = "Bearer token for --server (default: DATAPLANE_TOKEN)" },
            new Option<string?>("--data") { Description = "Data directory, as for `dataplane serve` (default ./data)" },
            new Option<string?>("--warehouse") { Description = "Table storage, as for `dataplane serve` (default <data>/warehouse)" },
            new Option<string?>("--config") { Description = "Configuration file, as for `dataplane serve` (default ./dataplane.json when present)" });

        public void AddTo(Command command)
        {
            command.Options.Add(Server);
            command.Options.Add(Token);
            command.Options.Add(Data);
            command.Options.Add(Warehouse);
            command.Options.Add(Config);
        }
    }

    /// <summary>The server the <c>table</c> and <c>namespace</c> commands work through when no flag names one.</summary>
    internal const string ServerVariable = "DATAPLANE_SERVER";

    /// <summary>The bearer token they send when <c>--token</c> is not given.</summary>
    internal const string TokenVariable = "DATAPLANE_TOKEN";

    /// <summary>A server's Iceberg REST catalog root: <c>URL/iceberg</c>; <paramref name="source"/> names where the URL came from.</summary>
    internal static Uri CatalogUri(string server, string source)
    {
        var root = server.TrimEnd('/');
        if (!root.EndsWith("/iceberg", StringComparison.Ordinal)) root += "/iceberg";
        if (!Uri.TryCreate(root, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{source} '{server}' must be an http(s) URL such as http://127.0.0.1:8181.");
        return uri;
    }

    /// <summary>The server the command works through (and where its URL came from), or null for the embedded catalog.</summary>
    public static (string Url, string Source)? Server(ParseResult r, Options o)
    {
        var embeddedNamed = r.GetValue(o.Data) is not null || r.GetValue(o.Warehouse) is not null;
        var server = r.GetValue(o.Server);
        var source = "--server";
        // As for the stream and sink commands, DATAPLANE_SERVER names the server to work through; naming the
        // embedded catalog's files on the command line wins over it.
        if (server is null && !embeddedNamed && Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment)
            (server, source) = (fromEnvironment, ServerVariable);
        if (server is null)
            return null;
        if (embeddedNamed)
            throw new ArgumentException("--data and --warehouse name the embedded catalog; with --server the server's own are used.");
        return (server, source);
    }

    public static async Task<TableCatalog> OpenAsync(ParseResult r, Options o, CancellationToken ct)
    {
        if (Server(r, o) is var (server, source))
            return new TableCatalog(await RemoteCatalog.OpenAsync(CatalogUri(server, source), r.GetValue(o.Token) ?? Environment.GetEnvironmentVariable(TokenVariable), ct));
        var flags = new Dictionary<string, string?>();
        if (r.GetValue(o.Data) is { } data) flags[nameof(DataPlaneOptions.Data)] = data;
        if (r.GetValue(o.Warehouse) is { } warehouse) flags[nameof(DataPlaneOptions.Warehouse)] = warehouse;
        var (options, _) = DataPlaneConfiguration.Load(r.GetValue(o.Config), flags);
        return new TableCatalog(new IcebergCatalog(RestCatalogSettings.From(options)), options.DataDirectory);
    }

    /// <summary>Creates the table (and its namespace when missing); returns its location and first metadata file.</summary>
    public async Task<(string Location, string MetadataLocation)> CreateAsync(TableIdentifier id, Schema schema, PartitionSpec spec,
        IReadOnlyDictionary<string, string> properties, CancellationToken ct)
    {
        await Catalog.CreateNamespaceIfMissingAsync(id.Namespace, ct);
        var table = await Catalog.CreateTableAsync(id, schema, spec, properties: properties, cancellationToken: ct);
        return (table.Metadata.Location, table.State.MetadataLocation);
    }

    public Task<Table> LoadAsync(TableIdentifier id, CancellationToken ct) => Catalog.LoadTableAsync(id, ct);

    /// <summary>Tables of one namespace, or of every namespace (recursively) when none is given.</summary>
    public async Task<List<TableIdentifier>> ListAsync(IReadOnlyList<string>? ns, CancellationToken ct)
    {
        var result = new List<TableIdentifier>();
        var pending = new Queue<IReadOnlyList<string>>();
        if (ns is not null) pending.Enqueue(ns);
        else foreach (var top in await Catalog.ListNamespacesAsync(null, ct)) pending.Enqueue(top);
        while (pending.TryDequeue(out var next))
        {
            result.AddRange(await Catalog.ListTablesAsync(next, ct));
            if (ns is null)
                foreach (var child in await Catalog.ListNamespacesAsync(next, ct)) pending.Enqueue(child);
        }
        return result;
    }

    /// <summary>Drops the table from the catalog (and with <paramref name="purge"/> its files); false when absent.</summary>
    public Task<bool> DropAsync(TableIdentifier id, bool purge, CancellationToken ct) => Catalog.DropTableAsync(id, purge, ct);

    public void Dispose() => Catalog.Dispose();
}
