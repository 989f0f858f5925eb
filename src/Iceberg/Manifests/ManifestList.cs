using Avro;
using Avro.Generic;
using DataPlane.Iceberg.Avro;

namespace DataPlane.Iceberg.Manifests;

/// <summary>
/// A snapshot's manifest list (Avro container of <c>manifest_file</c> records) with the metadata keys
/// <c>snapshot-id</c>, <c>parent-snapshot-id</c>, <c>sequence-number</c>, <c>format-version</c>. Writing assigns
/// the commit's sequence number to manifests that do not have one yet.
/// </summary>
internal static class ManifestList
{
    private static readonly string AvroSchemaJson = AvroSchemaConverter.ToAvroJson(ManifestSchemas.ManifestFileType, "manifest_file");

    /// <returns>The manifests as written, with sequence numbers assigned.</returns>
    public static IReadOnlyList<ManifestFile> Write(Stream output, long snapshotId, long? parentSnapshotId, long sequenceNumber, IEnumerable<ManifestFile> manifests)
    {
        var meta = new List<KeyValuePair<string, string>>
        {
            new("snapshot-id", snapshotId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("parent-snapshot-id", parentSnapshotId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"),
            new("sequence-number", sequenceNumber.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("format-version", "2"),
        };
        var written = new List<ManifestFile>();
        using var writer = new AvroContainer.Writer(output, AvroSchemaJson, meta);
        var schema = (RecordSchema)writer.Schema;
        var summarySchema = (RecordSchema)((ArraySchema)AvroValues.NonNull(schema["partitions"].Schema)).ItemSchema;
        foreach (var m0 in manifests)
        {
            var m = m0;
            if (m.SequenceNumber == ManifestFile.UnassignedSequenceNumber) m = m with { SequenceNumber = sequenceNumber };
            if (m.MinSequenceNumber == ManifestFile.UnassignedSequenceNumber) m = m with { MinSequenceNumber = sequenceNumber };
            var r = new GenericRecord(schema);
            r.Add("manifest_path", m.ManifestPath);
            r.Add("manifest_length", m.ManifestLength);
            r.Add("partition_spec_id", m.PartitionSpecId);
            r.Add("content", (int)m.Content);
            r.Add("sequence_number", m.SequenceNumber);
            r.Add("min_sequence_number", m.MinSequenceNumber);
            r.Add("added_snapshot_id", m.AddedSnapshotId);
            r.Add("added_files_count", m.AddedFilesCount);
            r.Add("existing_files_count", m.ExistingFilesCount);
            r.Add("deleted_files_count", m.DeletedFilesCount);
            r.Add("added_rows_count", m.AddedRowsCount);
            r.Add("existing_rows_count", m.ExistingRowsCount);
            r.Add("deleted_rows_count", m.DeletedRowsCount);
            r.Add("partitions", m.Partitions?.Select(object (p) =>
            {
                var s = new GenericRecord(summarySchema);
                s.Add("contains_null", p.ContainsNull);
                s.Add("contains_nan", p.ContainsNan);
                s.Add("lower_bound", p.LowerBound);
                s.Add("upper_bound", p.UpperBound);
                return s;
            }).ToArray());
            r.Add("key_metadata", m.KeyMetadata);
            writer.Append(r);
            written.Add(m);
        }
        writer.Finish();
        return written;
    }

    public static IEnumerable<ManifestFile> Read(Stream input)
    {
        var reader = new AvroContainer.Reader(input);
        foreach (var r in reader.Records())
        {
            yield return new ManifestFile
            {
                ManifestPath = (string)r["manifest_path"],
                ManifestLength = (long)r["manifest_length"],
                PartitionSpecId = (int)r["partition_spec_id"],
                Content = AvroValues.Optional<int>(r, "content") is { } c ? (ManifestContent)c : ManifestContent.Data,
                SequenceNumber = AvroValues.Optional<long>(r, "sequence_number") ?? 0,
                MinSequenceNumber = AvroValues.Optional<long>(r, "min_sequence_number") ?? 0,
                AddedSnapshotId = (long)r["added_snapshot_id"],
                AddedFilesCount = AvroValues.Optional<int>(r, "added_files_count") ?? 0,
                ExistingFilesCount = AvroValues.Optional<int>(r, "existing_files_count") ?? 0,
                DeletedFilesCount = AvroValues.Optional<int>(r, "deleted_files_count") ?? 0,
                AddedRowsCount = AvroValues.Optional<long>(r, "added_rows_count") ?? 0,
                ExistingRowsCount = AvroValues.Optional<long>(r, "existing_rows_count") ?? 0,
                DeletedRowsCount = AvroValues.Optional<long>(r, "deleted_rows_count") ?? 0,
                Partitions = r.TryGetValue("partitions", out var p) && p is System.Collections.IEnumerable list
                    ? list.Cast<GenericRecord>().Select(s => new FieldSummary(
                        (bool)s["contains_null"], AvroValues.Optional<bool>(s, "contains_nan"),
                        AvroValues.OptionalBytes(s, "lower_bound"), AvroValues.OptionalBytes(s, "upper_bound"))).ToList()
                    : null,
                KeyMetadata = AvroValues.OptionalBytes(r, "key_metadata"),
            };
        }
    }
}
