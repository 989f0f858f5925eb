using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// The manifests of a snapshot: read from its manifest list, or, for a v1 snapshot that lists its manifests inline,
/// described from each manifest itself (spec id and content from its metadata, counts from its entries; v1 has
/// no sequence numbers, so they are 0).
/// </summary>
internal static class SnapshotManifests
{
    public static async Task<List<ManifestFile>> ReadAsync(TableIO io, Snapshot snapshot, CancellationToken ct)
    {
        if (snapshot.ManifestList is { } listLocation)
        {
            using var list = await io.ReadAsync(listLocation, ct);
            return ManifestList.Read(list).ToList();
        }
        var manifests = new List<ManifestFile>();
        foreach (var location in snapshot.Manifests ?? [])
        {
            using var stream = await io.ReadAsync(location, ct);
            var length = stream.Length;
            var entries = ManifestReader.Read(stream, null, out var header);
            int added = 0, existing = 0, deleted = 0;
            long addedRows = 0, existingRows = 0, deletedRows = 0;
            foreach (var e in entries)
            {
                switch (e.Status)
                {
                    case ManifestEntryStatus.Added: added++; addedRows += e.DataFile.RecordCount; break;
                    case ManifestEntryStatus.Existing: existing++; existingRows += e.DataFile.RecordCount; break;
                    default: deleted++; deletedRows += e.DataFile.RecordCount; break;
                }
            }
            manifests.Add(new ManifestFile
            {
                ManifestPath = location,
                ManifestLength = length,
                PartitionSpecId = header.Spec.SpecId,
                Content = header.Content,
                SequenceNumber = 0,
                MinSequenceNumber = 0,
                AddedSnapshotId = snapshot.SnapshotId,
                AddedFilesCount = added,
                ExistingFilesCount = existing,
                DeletedFilesCount = deleted,
                AddedRowsCount = addedRows,
                ExistingRowsCount = existingRows,
                DeletedRowsCount = deletedRows,
            });
        }
        return manifests;
    }
}
