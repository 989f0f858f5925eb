using System.Text.Json;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using Microsoft.Extensions.Logging;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>Sink definitions, one JSON file each under <c>&lt;dir&gt;/sinks/</c>.</summary>
internal sealed class SinkRegistry
{
    private readonly string _root;
    private readonly DefinitionSet<SinkDefinition> _sinks = new("sink", s => s.Name);
    private readonly ICatalog _catalog;
    private readonly Warehouse _warehouse;
    private readonly int _maxSinks;

    public SinkRegistry(PipelinesOptions options, ICatalog catalog, Warehouse warehouse, ILogger<SinkRegistry> logger)
    {
        _catalog = catalog;
        _warehouse = warehouse;
        _maxSinks = options.MaxSinks;
        _root = Path.Combine(Path.GetFullPath(options.Directory), "sinks");
        Directory.CreateDirectory(_root);
        foreach (var file in Directory.EnumerateFiles(_root, "*.json").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(file));
                var sink = SinkDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
                if (sink.Name != name)
                    throw new InvalidDataException($"it names sink '{sink.Name}' but is stored as '{name}'.");
                _sinks.Add(sink);
            }
            catch (Exception e) when (FailedDefinition.IsLoadFailure(e))
            {
                var failed = FailedDefinition.From("sink", name, $"sinks/{name}.json", e);
                logger.LogError("Sink {Sink} is skipped: {Reason}", name, failed.Reason);
                _sinks.AddFailed(failed);
            }
        }
    }

    public IReadOnlyList<SinkDefinition> List() => _sinks.List();

    public SinkDefinition? Find(string name) => _sinks.Find(name);

    /// <summary>Stored sinks that could not be loaded at start-up, by name.</summary>
    public IReadOnlyList<FailedDefinition> Failed() => _sinks.Failed();

    public FailedDefinition? FindFailed(string name) => _sinks.FindFailed(name);

    /// <inheritdoc cref="DefinitionSet{T}.NameTaken"/>
    public string NameTaken(string name) => _sinks.NameTaken(name);

    /// <summary>
    /// Refuses a file sink whose path overlaps (is, holds or lies inside) a folder that is not its own: another file
    /// sink's path, a catalog namespace's folder (where its tables are created; also the namespaces iceberg sinks will
    /// create), or a table's location. A file sink owns the files under its path (on start it removes those its commits
    /// do not name), so such a path would delete a table's files. An <see cref="InvalidOperationException"/> (409) names
    /// the path and what it overlaps. Checked when the sink is created and when a pipeline writing it starts.
    /// </summary>
    public async Task CheckPathAsync(SinkDefinition sink, CancellationToken cancellationToken)
    {
        if (sink.Type != SinkDefinition.Files)
            return;
        string path = sink.Path!;
        CheckAgainstSinks(sink, List());
        foreach (var other in List())
            if (other.Type == SinkDefinition.Iceberg && Relation(path, other.Namespace!) is { } relation)
                throw Overlap(path, $"{relation} the folder of namespace {other.Namespace} ('{other.Namespace}'), where sink '{other.Name}' creates its table");

        // Every namespace's folder, and every table's location (anywhere in the warehouse: a location given at creation).
        var overlaps = new List<(string Folder, bool Namespace, string What)>();
        var pending = new Queue<IReadOnlyList<string>>(await _catalog.ListNamespacesAsync(null, cancellationToken));
        var warehouse = new TableIO(_warehouse.Store);
        while (pending.TryDequeue(out var ns))
        {
            string folder = string.Join('/', ns);
            if (Relation(path, folder) is { } relation)
                overlaps.Add((folder, true, $"{relation} the folder of namespace {string.Join('.', ns)} ('{folder}'), where its tables are created"));
            foreach (var child in await _catalog.ListNamespacesAsync(ns, cancellationToken))
                pending.Enqueue(child);
            foreach (var id in await _catalog.ListTablesAsync(ns, cancellationToken))
            {
                string key;
                try
                {
                    if (await _catalog.TryLoadTableAsync(id, cancellationToken) is not { } table)
                        continue;
                    // In the warehouse's keys, as the sink's path is (the table's own store may be rooted elsewhere).
                    key = warehouse.KeyOf(table.Metadata.Location).TrimEnd('/');
                }
                catch (Exception e) when (e is CatalogException or ArgumentException or InvalidOperationException or IOException)
                {
                    continue; // a table whose metadata cannot be read, or outside the warehouse: no location here to compare
                }
                if (Relation(path, key) is { } tableRelation)
                    overlaps.Add((key, false, $"{tableRelation} the location of table {id} ('{key}')"));
            }
        }
        // The message names the nearest: the folder closest in depth to the path (a table before its namespace on a tie).
        if (overlaps.Count > 0)
            throw Overlap(path, overlaps.OrderBy(o => Math.Abs(o.Folder.Length - path.Length)).ThenBy(o => o.Namespace).First().What);
    }

    /// <summary>Refuses a file sink whose path overlaps another file sink's.</summary>
    private static void CheckAgainstSinks(SinkDefinition sink, IEnumerable<SinkDefinition> sinks)
    {
        if (sink.Type != SinkDefinition.Files)
            return;
        foreach (var other in sinks)
            if (other.Type == SinkDefinition.Files && other.Name != sink.Name && Relation(sink.Path!, other.Path!) is { } relation)
                throw Overlap(sink.Path!, $"{relation} the path of file sink '{other.Name}' ('{other.Path}')");
    }

    /// <summary>How folder <paramref name="path"/> overlaps folder <paramref name="other"/>; null when they are apart.</summary>
    private static string? Relation(string path, string other) =>
        path == other ? "is"
        : other.StartsWith(path + "/", StringComparison.Ordinal) ? "holds"
        : path.StartsWith(other + "/", StringComparison.Ordinal) ? "is inside"
        : null;

    private static InvalidOperationException Overlap(string path, string what) =>
        new($"File sink path '{path}' {what}. A file sink's path must be a folder of its own: the sink owns the files there " +
            "(on start it removes those its commits do not name). Choose another path.");

    /// <summary>Where a pipeline writing <paramref name="sink"/> puts its files and commits: a table of the catalog, or raw files in its warehouse.</summary>
    /// <param name="rawRecords">The output is a schemaless stream's record text (NDJSON file sinks write it as is).</param>
    public ISinkTarget OpenTarget(SinkDefinition sink, IcebergSchema outputSchema, bool rawRecords = false) => sink.Type switch
    {
        SinkDefinition.Files => new FileSinkTarget(_warehouse.Store, sink.Path!, outputSchema, sink.Format, rawRecords, sink.Properties),
        _ => new IcebergTableTarget(_catalog, sink, outputSchema),
    };

    /// <summary>Stores the sink; false when one of that name exists (loaded or failed). An <see cref="InvalidOperationException"/>
    /// (409) when the server holds <see cref="PipelinesOptions.MaxSinks"/>, or the sink's path overlaps another file sink's
    /// (<see cref="CheckPathAsync"/> checks the catalog first).</summary>
    public bool TryCreate(SinkDefinition sink)
    {
        lock (_sinks.Gate)
        {
            if (_sinks.Contains(sink.Name))
                return false;
            int count = _sinks.Count;
            if (count >= _maxSinks)
                throw new InvalidOperationException(PipelinesOptions.LimitReached("sink", count, _maxSinks, nameof(PipelinesOptions.MaxSinks)));
            CheckAgainstSinks(sink, _sinks.List()); // again under the lock: two file sinks created at once
            DefinitionFile.Write(Path.Combine(_root, sink.Name + ".json"), sink.Write);
            _sinks.Add(sink);
            return true;
        }
    }

    public bool Delete(string name)
    {
        lock (_sinks.Gate)
        {
            if (!_sinks.Remove(name, out _) && !_sinks.RemoveFailed(name))
                return false;
            // Safe: the sink's own definition file (a loaded or failed sink's, by its name); the table or folder it wrote
            // is not touched. The API refuses while a pipeline writes the sink.
            File.Delete(Path.Combine(_root, name + ".json"));
            return true;
        }
    }
}
