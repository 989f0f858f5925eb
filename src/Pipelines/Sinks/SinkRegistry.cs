using System.Text.Json;

namespace DataPlane.Pipelines.Sinks;

/// <summary>Sink definitions, one JSON file each under <c>&lt;dir&gt;/sinks/</c>.</summary>
internal sealed class SinkRegistry
{
    private readonly string _root;
    private readonly Dictionary<string, SinkDefinition> _sinks = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public SinkRegistry(PipelinesOptions options)
    {
        _root = Path.Combine(Path.GetFullPath(options.Directory), "sinks");
        Directory.CreateDirectory(_root);
        foreach (var file in Directory.EnumerateFiles(_root, "*.json"))
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(file));
            var sink = SinkDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
            _sinks[sink.Name] = sink;
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

    public bool TryCreate(SinkDefinition sink)
    {
        lock (_gate)
        {
            if (_sinks.ContainsKey(sink.Name))
                return false;
            DefinitionFile.Write(Path.Combine(_root, sink.Name + ".json"), sink.Write);
            _sinks[sink.Name] = sink;
            return true;
        }
    }

    public bool Delete(string name)
    {
        lock (_gate)
        {
            if (!_sinks.Remove(name))
                return false;
            File.Delete(Path.Combine(_root, name + ".json"));
            return true;
        }
    }
}
