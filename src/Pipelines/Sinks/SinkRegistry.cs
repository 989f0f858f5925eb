using System.Text.Json;
using DataPlane.Catalog.Catalogs;
using Microsoft.Extensions.Logging;
using IcebergSchema = DataPlane.Catalog.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>Sink definitions, one JSON file each under <c>&lt;dir&gt;/sinks/</c>.</summary>
internal sealed class SinkRegistry
{
    private readonly string _root;
    private readonly Dictionary<string, SinkDefinition> _sinks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FailedDefinition> _failed = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly IcebergCatalog _catalog;
    private readonly int _maxSinks;

    public SinkRegistry(PipelinesOptions options, IcebergCatalog catalog, ILogger<SinkRegistry> logger)
    {
        _catalog = catalog;
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
                _sinks[sink.Name] = sink;
            }
            catch (Exception e) when (FailedDefinition.IsLoadFailure(e))
            {
                var failed = FailedDefinition.From("sink", name, $"sinks/{name}.json", e);
                logger.LogError("Sink {Sink} is skipped: {Reason}", name, failed.Reason);
                _failed[name] = failed;
            }
        }
    }

    public IReadOnlyList<SinkDefinition> List()
    {
        lock (_gate)
            return _sinks.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
    }

    public SinkDefinition? Find(string name)
    {
        lock (_gate)
            return _sinks.GetValueOrDefault(name);
    }

    /// <summary>Stored sinks that could not be loaded at start-up, by name.</summary>
    public IReadOnlyList<FailedDefinition> Failed()
    {
        lock (_gate)
            return _failed.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    public FailedDefinition? FindFailed(string name)
    {
        lock (_gate)
            return _failed.GetValueOrDefault(name);
    }

    /// <summary>Where a pipeline writing <paramref name="sink"/> puts its files and commits: a table of the catalog, or raw files in its warehouse.</summary>
    /// <param name="rawRecords">The output is a schemaless stream's record text (NDJSON file sinks write it as is).</param>
    public ISinkTarget OpenTarget(SinkDefinition sink, IcebergSchema outputSchema, bool rawRecords = false) => sink.Type switch
    {
        SinkDefinition.Files => new FileSinkTarget(_catalog.Warehouse, sink.Path!, outputSchema, sink.Format, rawRecords),
        _ => new IcebergTableTarget(_catalog, sink, outputSchema),
    };

    /// <summary>Stores the sink; false when one of that name exists (loaded or failed). An <see cref="InvalidOperationException"/>
    /// (409) when the server holds <see cref="PipelinesOptions.MaxSinks"/>.</summary>
    public bool TryCreate(SinkDefinition sink)
    {
        lock (_gate)
        {
            if (_sinks.ContainsKey(sink.Name) || _failed.ContainsKey(sink.Name))
                return false;
            int count = _sinks.Count + _failed.Count;
            if (count >= _maxSinks)
                throw new InvalidOperationException(PipelinesOptions.LimitReached("sink", count, _maxSinks, nameof(PipelinesOptions.MaxSinks)));
            DefinitionFile.Write(Path.Combine(_root, sink.Name + ".json"), sink.Write);
            _sinks[sink.Name] = sink;
            return true;
        }
    }

    public bool Delete(string name)
    {
        lock (_gate)
        {
            if (!_sinks.Remove(name) && !_failed.Remove(name))
                return false;
            File.Delete(Path.Combine(_root, name + ".json"));
            return true;
        }
    }
}
