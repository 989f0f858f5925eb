namespace DataPlane.Iceberg.Manifests;

/// <summary>What a content file holds (data_file.content, field 134).</summary>
public enum FileContent
{
    Data = 0,
    PositionDeletes = 1,
    EqualityDeletes = 2,
}

/// <summary>What a manifest tracks (manifest_file.content, field 517).</summary>
public enum ManifestContent
{
    Data = 0,
    Deletes = 1,
}

/// <summary>Manifest entry status (field 0).</summary>
public enum ManifestEntryStatus
{
    Existing = 0,
    Added = 1,
    Deleted = 2,
}
