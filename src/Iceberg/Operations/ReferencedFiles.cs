using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Storage;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// Every file a table's metadata references, found by following its references rather than by listing a folder:
/// the metadata file and those of its <c>metadata-log</c>, statistics and partition-statistics files, each snapshot's
/// manifest list, the manifests it lists, and every data and delete file those manifests name (in any status). Only
/// files inside the table's store are read; a reference elsewhere is listed but never opened.
/// </summary>
public sealed class ReferencedFiles
{
    /// <summary>Data and delete files first, then manifests, manifest lists, statistics and metadata files (the current
    /// one last): an order in which deleting them never leaves a file that references one already gone.</summary>
    public List<string> Locations { get; } = [];

    /// <summary>The data and delete files alone (Iceberg's content files): the first <see cref="Locations"/>.</summary>
    public IEnumerable<string> ContentFiles => Locations.Take(_contentFiles);

    private int _contentFiles;

    /// <summary>Manifest lists and manifests that could not be read (missing, outside the store, damaged): the files they
    /// name are not in <see cref="Locations"/>, so the table may reference more than that.</summary>
    public List<string> Unreadable { get; } = [];

    public static async Task<ReferencedFiles> ReadAsync(TableIO io, TableMetadata metadata, string? metadataLocation, CancellationToken cancellationToken)
    {
        var result = new ReferencedFiles();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var dataFiles = new List<string>();
        var manifests = new List<string>();
        var lists = new List<string>();
        foreach (var snapshot in metadata.Snapshots)
        {
            List<string> snapshotManifests;
            if (snapshot.ManifestList is { } list)
            {
                if (!seen.Add(list)) continue;
                lists.Add(list);
                try
                {
                    using var stream = await io.ReadAsync(list, cancellationToken);
                    snapshotManifests = ManifestList.Read(stream).Select(m => m.ManifestPath).ToList();
                }
                catch (Exception e) when (CannotFollow(e))
                {
                    result.Unreadable.Add(list);
                    continue;
                }
            }
            else snapshotManifests = [.. snapshot.Manifests ?? []];
            foreach (var manifest in snapshotManifests)
            {
                if (!seen.Add(manifest)) continue;
                manifests.Add(manifest);
                try
                {
                    using var stream = await io.ReadAsync(manifest, cancellationToken);
                    foreach (var entry in ManifestReader.Read(stream))
                        if (seen.Add(entry.DataFile.FilePath)) dataFiles.Add(entry.DataFile.FilePath);
                }
                catch (Exception e) when (CannotFollow(e))
                {
                    result.Unreadable.Add(manifest);
                }
            }
        }
        result.Locations.AddRange(dataFiles);
        result._contentFiles = dataFiles.Count;
        result.Locations.AddRange(manifests);
        result.Locations.AddRange(lists);
        foreach (var statistics in metadata.Statistics.Concat(metadata.PartitionStatistics))
            if (statistics.Path is { } path && seen.Add(path)) result.Locations.Add(path);
        foreach (var entry in metadata.MetadataLog)
            if (seen.Add(entry.MetadataFile)) result.Locations.Add(entry.MetadataFile);
        if (metadataLocation is not null && seen.Add(metadataLocation)) result.Locations.Add(metadataLocation);
        return result;
    }

    /// <summary>Why a file's references cannot be followed: it is missing, outside the store (never opened), or not a readable Avro file.</summary>
    private static bool CannotFollow(Exception e) => e is not (OperationCanceledException or OutOfMemoryException);
}
