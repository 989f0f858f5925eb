using System.Text.Json;
using DataPlane.Iceberg.Avro;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Iceberg.Tests.Manifests;

public class ManifestTests
{
    private static readonly Schema Schema = new(3, [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "data", PrimitiveType.String),
        NestedField.Optional(3, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(4, "price", PrimitiveType.Decimal(9, 2)),
    ]);

    private static readonly PartitionSpec Spec = PartitionSpec.BuilderFor(Schema).WithSpecId(2).Day("ts").Bucket("id", 16).Identity("price").Build();

    private static DataFile File(string name, int day, int bucket, decimal? price, long rows) => new()
    {
        FilePath = $"file:///wh/db/t/data/{name}.parquet",
        SpecId = 2,
        Partition = new PartitionData([day, bucket, price]),
        RecordCount = rows,
        FileSizeInBytes = rows * 10,
        ColumnSizes = new Dictionary<int, long> { [1] = 100, [2] = 200 },
        ValueCounts = new Dictionary<int, long> { [1] = rows, [2] = rows },
        NullValueCounts = new Dictionary<int, long> { [1] = 0, [2] = 1 },
        NanValueCounts = new Dictionary<int, long>(),
        LowerBounds = new Dictionary<int, byte[]> { [1] = Conversions.ToBytes(PrimitiveType.Long, 1L), [2] = "a"u8.ToArray() },
        UpperBounds = new Dictionary<int, byte[]> { [1] = Conversions.ToBytes(PrimitiveType.Long, rows), [2] = "z"u8.ToArray() },
        SplitOffsets = [4L],
        SortOrderId = 0,
    };

    private static (byte[] Bytes, ManifestFile Manifest) WriteManifest(params ManifestEntry[] entries)
    {
        var ms = new MemoryStream();
        using var writer = new ManifestWriter(ms, Schema, Spec, snapshotId: 77);
        foreach (var e in entries) writer.Add(e);
        var manifest = writer.Finish("file:///wh/db/t/metadata/m0.avro");
        return (ms.ToArray(), manifest);
    }

    [Fact]
    public void Entries_round_trip_with_partition_values_metrics_and_counts()
    {
        var a = File("a", 19723, 3, 14.20m, 10);
        var b = File("b", 19724, 5, null, 20);
        var (bytes, manifest) = WriteManifest(
            ManifestEntry.Added(a, 77),
            new ManifestEntry(ManifestEntryStatus.Existing, 70, 4, 4, b),
            new ManifestEntry(ManifestEntryStatus.Deleted, 77, 2, 3, a with { FilePath = "file:///wh/db/t/data/old.parquet" }));

        Assert.Equal(bytes.Length, manifest.ManifestLength);
        Assert.Equal((1, 1, 1), (manifest.AddedFilesCount, manifest.ExistingFilesCount, manifest.DeletedFilesCount));
        Assert.Equal((10L, 20L, 10L), (manifest.AddedRowsCount, manifest.ExistingRowsCount, manifest.DeletedRowsCount));
        var days = manifest.Partitions![0];
        Assert.False(days.ContainsNull);
        Assert.Equal(19723, Conversions.FromBytes(PrimitiveType.Date, days.LowerBound));
        Assert.Equal(19724, Conversions.FromBytes(PrimitiveType.Date, days.UpperBound));
        Assert.True(manifest.Partitions[2].ContainsNull);

        var assigned = manifest with { SequenceNumber = 9, MinSequenceNumber = 4 };
        var entries = ManifestReader.Read(new MemoryStream(bytes), assigned, out var header).ToList();
        Assert.Equal(2, header.Spec.SpecId);
        Assert.True(header.Schema.SameSchema(Schema));
        Assert.Equal(3, entries.Count);

        var added = entries[0];
        Assert.Equal(ManifestEntryStatus.Added, added.Status);
        Assert.Equal((77L, 9L, 9L), (added.SnapshotId, added.SequenceNumber, added.FileSequenceNumber));
        Assert.Equal(a.Partition, added.DataFile.Partition);
        Assert.Equal(a.FilePath, added.DataFile.FilePath);
        Assert.Equal("PARQUET", added.DataFile.FileFormat);
        Assert.Equal(a.ColumnSizes, added.DataFile.ColumnSizes);
        Assert.Equal(a.NullValueCounts, added.DataFile.NullValueCounts);
        Assert.Equal(a.UpperBounds![2], added.DataFile.UpperBounds![2]);
        Assert.Equal([4L], added.DataFile.SplitOffsets);
        Assert.Equal(0, added.DataFile.SortOrderId);
        Assert.Null(added.DataFile.EqualityIds);

        // Existing and deleted entries keep their explicit sequence numbers.
        Assert.Equal((70L, 4L, 4L), (entries[1].SnapshotId, entries[1].SequenceNumber, entries[1].FileSequenceNumber));
        Assert.Equal(new PartitionData([19724, 5, null]), entries[1].DataFile.Partition);
        Assert.Equal((2L, 3L), (entries[2].SequenceNumber, entries[2].FileSequenceNumber));
    }

    [Fact]
    public void Avro_schema_and_metadata_use_the_spec_field_ids_names_and_keys()
    {
        var (bytes, _) = WriteManifest(ManifestEntry.Added(File("a", 1, 1, 1m, 1), 77));
        var reader = new AvroContainer.Reader(new MemoryStream(bytes));

        Assert.Equal("deflate", reader.Metadata["avro.codec"]);
        Assert.Equal("2", reader.Metadata["format-version"]);
        Assert.Equal("data", reader.Metadata["content"]);
        Assert.Equal("2", reader.Metadata["partition-spec-id"]);
        Assert.Equal("3", reader.Metadata["schema-id"]);
        Assert.Equal(Schema.ToJson(), reader.Metadata["schema"]);
        Assert.Equal(
            """[{"name":"ts_day","transform":"day","source-id":3,"field-id":1000},{"name":"id_bucket","transform":"bucket[16]","source-id":1,"field-id":1001},{"name":"price","transform":"identity","source-id":4,"field-id":1002}]""",
            reader.Metadata["partition-spec"]);

        using var doc = JsonDocument.Parse(reader.SchemaJson);
        var ids = new Dictionary<string, int>();
        Collect(doc.RootElement, "", ids);
        var expected = new Dictionary<string, int>
        {
            ["status"] = 0, ["snapshot_id"] = 1, ["sequence_number"] = 3, ["file_sequence_number"] = 4, ["data_file"] = 2,
            ["data_file.content"] = 134, ["data_file.file_path"] = 100, ["data_file.file_format"] = 101, ["data_file.partition"] = 102,
            ["data_file.partition.ts_day"] = 1000, ["data_file.partition.id_bucket"] = 1001, ["data_file.partition.price"] = 1002,
            ["data_file.record_count"] = 103, ["data_file.file_size_in_bytes"] = 104,
            ["data_file.column_sizes"] = 108, ["data_file.column_sizes.key"] = 117, ["data_file.column_sizes.value"] = 118,
            ["data_file.value_counts"] = 109, ["data_file.value_counts.key"] = 119, ["data_file.value_counts.value"] = 120,
            ["data_file.null_value_counts"] = 110, ["data_file.null_value_counts.key"] = 121, ["data_file.null_value_counts.value"] = 122,
            ["data_file.nan_value_counts"] = 137, ["data_file.nan_value_counts.key"] = 138, ["data_file.nan_value_counts.value"] = 139,
            ["data_file.lower_bounds"] = 125, ["data_file.lower_bounds.key"] = 126, ["data_file.lower_bounds.value"] = 127,
            ["data_file.upper_bounds"] = 128, ["data_file.upper_bounds.key"] = 129, ["data_file.upper_bounds.value"] = 130,
            ["data_file.key_metadata"] = 131, ["data_file.split_offsets"] = 132, ["data_file.equality_ids"] = 135,
            ["data_file.sort_order_id"] = 140, ["data_file.referenced_data_file"] = 143,
        };
        Assert.Equal(expected.OrderBy(p => p.Key), ids.OrderBy(p => p.Key));
        Assert.Contains("\"logicalType\":\"map\"", reader.SchemaJson);
        Assert.Contains("\"element-id\":133", reader.SchemaJson);
        Assert.Contains("{\"type\":\"int\",\"logicalType\":\"date\"}", reader.SchemaJson);
        Assert.Contains("\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2", reader.SchemaJson);
    }

    private static void Collect(JsonElement record, string prefix, Dictionary<string, int> ids)
    {
        foreach (var f in record.GetProperty("fields").EnumerateArray())
        {
            var name = prefix + f.GetProperty("name").GetString();
            ids[name] = f.GetProperty("field-id").GetInt32();
            var type = f.GetProperty("type");
            if (type.ValueKind == JsonValueKind.Array) type = type[1];
            if (type.ValueKind != JsonValueKind.Object) continue;
            if (type.GetProperty("type").GetString() == "record") Collect(type, name + ".", ids);
            if (type.TryGetProperty("logicalType", out var lt) && lt.GetString() == "map") Collect(type.GetProperty("items"), name + ".", ids);
        }
    }

    [Fact]
    public void Manifest_list_assigns_sequence_numbers_and_round_trips()
    {
        var (_, manifest) = WriteManifest(ManifestEntry.Added(File("a", 1, 1, 1m, 5), 77));
        var older = manifest with { ManifestPath = "file:///wh/m-old.avro", SequenceNumber = 3, MinSequenceNumber = 2, AddedSnapshotId = 60 };
        var ms = new MemoryStream();
        var written = ManifestList.Write(ms, 77, 60, 4, [manifest, older]);
        Assert.Equal(4, written[0].SequenceNumber);
        Assert.Equal(4, written[0].MinSequenceNumber);

        var reader = new AvroContainer.Reader(new MemoryStream(ms.ToArray()));
        Assert.Equal("77", reader.Metadata["snapshot-id"]);
        Assert.Equal("60", reader.Metadata["parent-snapshot-id"]);
        Assert.Equal("4", reader.Metadata["sequence-number"]);
        Assert.Equal("2", reader.Metadata["format-version"]);

        var back = ManifestList.Read(new MemoryStream(ms.ToArray())).ToList();
        Assert.Equal(2, back.Count);
        Assert.Equal(written[0] with { Partitions = null }, back[0] with { Partitions = null });
        Assert.Equal((3L, 2L, 60L), (back[1].SequenceNumber, back[1].MinSequenceNumber, back[1].AddedSnapshotId));
        Assert.Equal(written[0].Partitions!.Select(p => Convert.ToHexString(p.LowerBound!)), back[0].Partitions!.Select(p => Convert.ToHexString(p.LowerBound!)));
    }

    [PythonAvroFact]
    public async Task An_independent_Avro_reader_reads_the_manifest_and_the_manifest_list()
    {
        var dir = Directory.CreateTempSubdirectory("manifest-py");
        try
        {
            var (bytes, manifest) = WriteManifest(
                ManifestEntry.Added(File("a", 19723, 3, 14.20m, 10), 77),
                ManifestEntry.Added(File("b", 19724, 5, null, 20), 77));
            var manifestPath = Path.Combine(dir.FullName, "m.avro");
            System.IO.File.WriteAllBytes(manifestPath, bytes);
            var listPath = Path.Combine(dir.FullName, "snap.avro");
            using (var fs = System.IO.File.Create(listPath)) ManifestList.Write(fs, 77, null, 1, [manifest]);

            const string script = """
                import sys, json, avro.datafile, avro.io
                out = {}
                for name in sys.argv[1:]:
                    r = avro.datafile.DataFileReader(open(name, 'rb'), avro.io.DatumReader())
                    out[name] = {"meta": {k: v.decode() for k, v in r.meta.items() if not k.startswith('avro.')},
                                 "codec": r.meta['avro.codec'].decode(), "records": [rec for rec in r]}
                print(json.dumps(out, default=str))
                """;
            var (exit, stdout, stderr) = await ToolProcess.RunAsync(PythonAvroFactAttribute.Python, ["-c", script, manifestPath, listPath], TimeSpan.FromMinutes(2));
            Assert.True(exit == 0, stderr);

            using var doc = JsonDocument.Parse(stdout);
            var m = doc.RootElement.GetProperty(manifestPath);
            Assert.Equal("deflate", m.GetProperty("codec").GetString());
            Assert.Equal("data", m.GetProperty("meta").GetProperty("content").GetString());
            var records = m.GetProperty("records");
            Assert.Equal(2, records.GetArrayLength());
            var first = records[0];
            Assert.Equal(1, first.GetProperty("status").GetInt32());
            Assert.Equal(77, first.GetProperty("snapshot_id").GetInt64());
            Assert.Equal(JsonValueKind.Null, first.GetProperty("sequence_number").ValueKind);
            var df = first.GetProperty("data_file");
            Assert.Equal("file:///wh/db/t/data/a.parquet", df.GetProperty("file_path").GetString());
            Assert.Equal(10, df.GetProperty("record_count").GetInt64());
            Assert.Equal("2024-01-01", df.GetProperty("partition").GetProperty("ts_day").GetString());
            Assert.Equal(3, df.GetProperty("partition").GetProperty("id_bucket").GetInt32());
            Assert.Equal("14.20", df.GetProperty("partition").GetProperty("price").GetString());
            Assert.Equal(JsonValueKind.Null, records[1].GetProperty("data_file").GetProperty("partition").GetProperty("price").ValueKind);
            Assert.Equal(1, df.GetProperty("null_value_counts")[1].GetProperty("value").GetInt64());

            var l = doc.RootElement.GetProperty(listPath);
            Assert.Equal("77", l.GetProperty("meta").GetProperty("snapshot-id").GetString());
            var entry = l.GetProperty("records")[0];
            Assert.Equal("file:///wh/db/t/metadata/m0.avro", entry.GetProperty("manifest_path").GetString());
            Assert.Equal(bytes.Length, entry.GetProperty("manifest_length").GetInt64());
            Assert.Equal(1, entry.GetProperty("sequence_number").GetInt64());
            Assert.Equal(2, entry.GetProperty("added_files_count").GetInt32());
            Assert.Equal(30, entry.GetProperty("added_rows_count").GetInt64());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
