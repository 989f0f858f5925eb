using System.Diagnostics.CodeAnalysis;

namespace DataPlane.Pipelines;

/// <summary>
/// What a registry holds by name: the streams, sinks or pipelines it loaded, and the stored definitions that failed to
/// load (<see cref="FailedDefinition"/>), which keep their name taken and count against the limit until deleted.
/// </summary>
/// <param name="kind">What it holds, singular: "stream", "sink", "pipeline" (as the API's paths spell it).</param>
/// <param name="nameOf">The name a loaded one is kept under.</param>
internal sealed class DefinitionSet<T>(string kind, Func<T, string> nameOf)
    where T : class
{
    private readonly Dictionary<string, T> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FailedDefinition> _failed = new(StringComparer.Ordinal);

    /// <summary>Held by every method here; a registry holds it too where a check and the change it allows go together.</summary>
    public object Gate { get; } = new();

    /// <summary>Loaded and failed ones: what the registry's limit counts.</summary>
    public int Count
    {
        get
        {
            lock (Gate)
                return _loaded.Count + _failed.Count;
        }
    }

    /// <summary>The loaded ones, by name.</summary>
    public IReadOnlyList<T> List()
    {
        lock (Gate)
            return _loaded.Values.OrderBy(nameOf, StringComparer.Ordinal).ToList();
    }

    public T? Find(string name)
    {
        lock (Gate)
            return _loaded.GetValueOrDefault(name);
    }

    /// <summary>The stored definitions that could not be loaded at start-up, by name.</summary>
    public IReadOnlyList<FailedDefinition> Failed()
    {
        lock (Gate)
            return _failed.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    public FailedDefinition? FindFailed(string name)
    {
        lock (Gate)
            return _failed.GetValueOrDefault(name);
    }

    /// <summary>Whether the name is taken, by a loaded or a failed one.</summary>
    public bool Contains(string name)
    {
        lock (Gate)
            return _loaded.ContainsKey(name) || _failed.ContainsKey(name);
    }

    /// <summary>The 409 message for a create whose name is taken, by a loaded one or by a stored one that failed to load.</summary>
    public string NameTaken(string name) => FindFailed(name) is not null
        ? $"A {kind} named '{name}' is stored but failed to load (GET /api/v1/{kind}s/{name} says why); delete it first or pick another name."
        : $"A {kind} named '{name}' already exists; delete it first or pick another name.";

    public void Add(T loaded)
    {
        lock (Gate)
            _loaded[nameOf(loaded)] = loaded;
    }

    public void AddFailed(FailedDefinition failed)
    {
        lock (Gate)
            _failed[failed.Name] = failed;
    }

    public bool Remove(string name, [MaybeNullWhen(false)] out T loaded)
    {
        lock (Gate)
            return _loaded.Remove(name, out loaded);
    }

    public bool RemoveFailed(string name)
    {
        lock (Gate)
            return _failed.Remove(name);
    }
}
