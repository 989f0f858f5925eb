namespace DataPlane.Iceberg.Manifests;

/// <summary>
/// One row of a manifest. Null snapshot id and sequence numbers are inherited from the manifest's entry in the
/// manifest list when read (spec, "Sequence Number Inheritance"); <see cref="ManifestReader"/> fills them in.
/// </summary>
public sealed record ManifestEntry(
    ManifestEntryStatus Status,
    long? SnapshotId,
    long? SequenceNumber,
    long? FileSequenceNumber,
    DataFile DataFile)
{
    public bool IsLive => Status != ManifestEntryStatus.Deleted;

    public static ManifestEntry Added(DataFile file, long snapshotId) => new(ManifestEntryStatus.Added, snapshotId, null, null, file);
}
