namespace DataPlane.Storage;

/// <summary>The key is absent.</summary>
public sealed class ObjectNotFoundException(string key, Uri store)
    : Exception($"No object '{key}' in {store}.")
{
    public string Key { get; } = key;
}

/// <summary>A put-if-absent lost: another writer created the key first.</summary>
public sealed class ObjectAlreadyExistsException(string key, Uri store)
    : Exception($"Object '{key}' already exists in {store}; put-if-absent refused to replace it.")
{
    public string Key { get; } = key;
}

/// <summary>A key that is empty, absolute, contains '..' segments or NUL, or otherwise escapes the store's root.</summary>
public sealed class InvalidObjectKeyException(string key, string reason)
    : ArgumentException($"Invalid object key '{key.Replace("\0", "\\0")}': {reason}.")
{
    public string Key { get; } = key;
}
