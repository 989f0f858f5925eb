using Avro.Generic;
using DataPlane.Iceberg.Avro;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;
using Schema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Manifests;

/// <summary>
/// Reads a manifest's entries, filling in inherited values from its manifest list entry: a null snapshot id takes
/// the manifest's added snapshot id, null sequence numbers of added entries take the manifest's sequence number.
/// </summary>
internal static class ManifestReader
{
    /// <summary>The manifest's own metadata: the table schema and partition spec it was written with.</summary>
    public sealed record Header(Schema Schema, PartitionSpec Spec, ManifestContent Content);

    public static Header ReadHeader(IReadOnlyDictionary<string, string> meta)
    {
        var schema = Schema.FromJson(meta.TryGetValue("schema", out var s) ? s : throw new InvalidDataException("Manifest has no 'schema' metadata."));
        var specId = meta.TryGetValue("partition-spec-id", out var id) ? int.Parse(id, System.Globalization.CultureInfo.InvariantCulture) : 0;
        using var doc = System.Text.Json.JsonDocument.Parse(meta.TryGetValue("partition-spec", out var p) ? p : "[]");
        var spec = new PartitionSpec(specId, PartitionSpecJson.ReadFields(doc.RootElement));
        var content = meta.GetValueOrDefault("content", "data") == "deletes" ? ManifestContent.Deletes : ManifestContent.Data;
        return new Header(schema, spec, content);
    }

    public static IEnumerable<ManifestEntry> Read(Stream manifest, ManifestFile? inheritFrom = null) => Read(manifest, inheritFrom, out _);

    public static IEnumerable<ManifestEntry> Read(Stream manifest, ManifestFile? inheritFrom, out Header header)
    {
        var reader = new AvroContainer.Reader(manifest);
        header = ReadHeader(reader.Metadata);
        return Entries(reader, header, inheritFrom);
    }

    private static IEnumerable<ManifestEntry> Entries(AvroContainer.Reader reader, Header header, ManifestFile? manifest)
    {
        var partitionType = header.Spec.PartitionType(header.Schema);
        foreach (var e in reader.Records())
        {
            var status = (ManifestEntryStatus)(int)e["status"];
            var snapshotId = AvroValues.Optional<long>(e, "snapshot_id") ?? manifest?.AddedSnapshotId;
            var seq = AvroValues.Optional<long>(e, "sequence_number");
            var fileSeq = AvroValues.Optional<long>(e, "file_sequence_number");
            if (manifest is not null && manifest.SequenceNumber != ManifestFile.UnassignedSequenceNumber)
            {
                // Only added entries inherit; v1 manifests (no column) default to 0, which the manifest list also says.
                if (seq is null && (status == ManifestEntryStatus.Added || manifest.SequenceNumber == 0)) seq = manifest.SequenceNumber;
                if (fileSeq is null && (status == ManifestEntryStatus.Added || manifest.SequenceNumber == 0)) fileSeq = manifest.SequenceNumber;
            }
            yield return new ManifestEntry(status, snapshotId, seq, fileSeq, ReadDataFile((GenericRecord)e["data_file"], header.Spec, partitionType));
        }
    }

    private static DataFile ReadDataFile(GenericRecord r, PartitionSpec spec, StructType partitionType)
    {
        var partition = (GenericRecord)r["partition"];
        var values = new object?[partitionType.Fields.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var f = partitionType.Fields[i];
            values[i] = partition.TryGetValue(f.Name, out var v) ? AvroValues.FromAvro((PrimitiveType)f.Type, v) : null;
        }
        return new DataFile
        {
            Content = r.TryGetValue("content", out var c) && c is int content ? (FileContent)content : FileContent.Data,
            FilePath = (string)r["file_path"],
            FileFormat = (string)r["file_format"],
            SpecId = spec.SpecId,
            Partition = new PartitionData(values),
            RecordCount = (long)r["record_count"],
            FileSizeInBytes = (long)r["file_size_in_bytes"],
            ColumnSizes = AvroValues.ReadIntMap<long>(r, "column_sizes"),
            ValueCounts = AvroValues.ReadIntMap<long>(r, "value_counts"),
            NullValueCounts = AvroValues.ReadIntMap<long>(r, "null_value_counts"),
            NanValueCounts = AvroValues.ReadIntMap<long>(r, "nan_value_counts"),
            LowerBounds = AvroValues.ReadIntMap<byte[]>(r, "lower_bounds"),
            UpperBounds = AvroValues.ReadIntMap<byte[]>(r, "upper_bounds"),
            KeyMetadata = AvroValues.OptionalBytes(r, "key_metadata"),
            SplitOffsets = AvroValues.ReadList<long>(r, "split_offsets"),
            EqualityIds = AvroValues.ReadList<int>(r, "equality_ids"),
            SortOrderId = AvroValues.Optional<int>(r, "sort_order_id"),
            ReferencedDataFile = AvroValues.OptionalString(r, "referenced_data_file"),
        };
    }
}
