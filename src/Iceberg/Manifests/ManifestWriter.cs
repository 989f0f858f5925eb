using Avro;
using Avro.Generic;
using DataPlane.Iceberg.Avro;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using Schema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Manifests;

/// <summary>
/// Writes one manifest (Avro container, deflate) for one partition spec: entries, the spec's key/value metadata
/// (<c>schema</c>, <c>schema-id</c>, <c>partition-spec</c>, <c>partition-spec-id</c>, <c>format-version</c>,
/// <c>content</c>), and returns its <see cref="ManifestFile"/> with counts and partition summaries.
/// </summary>
internal sealed class ManifestWriter : IDisposable
{
    private readonly CountingStream _out;
    private readonly AvroContainer.Writer _writer;
    private readonly Schema _schema;
    private readonly PartitionSpec _spec;
    private readonly StructType _partitionType;
    private readonly long _snapshotId;
    private readonly ManifestContent _content;
    private readonly RecordSchema _entrySchema;
    private readonly RecordSchema _fileSchema;
    private readonly RecordSchema _partitionSchema;
    private readonly PartitionSummaryBuilder _summary;
    private int _added, _existing, _deleted;
    private long _addedRows, _existingRows, _deletedRows;
    private long? _minSequenceNumber;
    private bool _inherits;

    public ManifestWriter(Stream output, Schema schema, PartitionSpec spec, long snapshotId, ManifestContent content = ManifestContent.Data)
    {
        _out = new CountingStream(output);
        _schema = schema;
        _spec = spec;
        _snapshotId = snapshotId;
        _content = content;
        _partitionType = spec.PartitionType(schema);
        var avroSchema = AvroSchemaConverter.ToAvroJson(ManifestSchemas.ManifestEntryType(_partitionType), "manifest_entry");
        _writer = new AvroContainer.Writer(_out, avroSchema, [
            new("schema", schema.ToJson()),
            new("schema-id", schema.SchemaId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("partition-spec", Json.Write(w => PartitionSpecJson.WriteFields(w, spec.Fields))),
            new("partition-spec-id", spec.SpecId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("format-version", "2"),
            new("content", content == ManifestContent.Data ? "data" : "deletes"),
        ]);
        _entrySchema = (RecordSchema)_writer.Schema;
        _fileSchema = AvroValues.Record(_entrySchema, "data_file");
        _partitionSchema = AvroValues.Record(_fileSchema, "partition");
        _summary = new PartitionSummaryBuilder(_partitionType);
    }

    public void Add(ManifestEntry entry)
    {
        var file = entry.DataFile;
        if (file.SpecId != _spec.SpecId)
            throw new ArgumentException($"Data file {file.FilePath} has partition spec {file.SpecId}; this manifest is for spec {_spec.SpecId}.");
        if (file.Partition.Count != _spec.Fields.Count)
            throw new ArgumentException($"Data file {file.FilePath} has {file.Partition.Count} partition values; spec {_spec.SpecId} has {_spec.Fields.Count} fields.");

        var partition = new GenericRecord(_partitionSchema);
        for (var i = 0; i < _spec.Fields.Count; i++)
        {
            var f = _partitionType.Fields[i];
            partition.Add(f.Name, AvroValues.ToAvro((PrimitiveType)f.Type, file.Partition[i], _partitionSchema[f.Name].Schema));
        }
        _summary.Add(file.Partition);

        var df = new GenericRecord(_fileSchema);
        df.Add("content", (int)file.Content);
        df.Add("file_path", file.FilePath);
        df.Add("file_format", file.FileFormat);
        df.Add("partition", partition);
        df.Add("record_count", file.RecordCount);
        df.Add("file_size_in_bytes", file.FileSizeInBytes);
        df.Add("column_sizes", AvroValues.IntMap(_fileSchema, "column_sizes", file.ColumnSizes));
        df.Add("value_counts", AvroValues.IntMap(_fileSchema, "value_counts", file.ValueCounts));
        df.Add("null_value_counts", AvroValues.IntMap(_fileSchema, "null_value_counts", file.NullValueCounts));
        df.Add("nan_value_counts", AvroValues.IntMap(_fileSchema, "nan_value_counts", file.NanValueCounts));
        df.Add("lower_bounds", AvroValues.IntMap(_fileSchema, "lower_bounds", file.LowerBounds));
        df.Add("upper_bounds", AvroValues.IntMap(_fileSchema, "upper_bounds", file.UpperBounds));
        df.Add("key_metadata", file.KeyMetadata);
        df.Add("split_offsets", file.SplitOffsets?.Cast<object>().ToArray());
        df.Add("equality_ids", file.EqualityIds?.Cast<object>().ToArray());
        df.Add("sort_order_id", file.SortOrderId);
        df.Add("referenced_data_file", file.ReferencedDataFile);

        var e = new GenericRecord(_entrySchema);
        e.Add("status", (int)entry.Status);
        e.Add("snapshot_id", entry.SnapshotId);
        e.Add("sequence_number", entry.SequenceNumber);
        e.Add("file_sequence_number", entry.FileSequenceNumber);
        e.Add("data_file", df);
        _writer.Append(e);

        switch (entry.Status)
        {
            case ManifestEntryStatus.Added:
                _added++;
                _addedRows += file.RecordCount;
                break;
            case ManifestEntryStatus.Existing:
                _existing++;
                _existingRows += file.RecordCount;
                break;
            default:
                _deleted++;
                _deletedRows += file.RecordCount;
                break;
        }
        // An added entry without a sequence number gets the commit's, which is the highest; only explicit ones lower the minimum.
        if (entry.Status != ManifestEntryStatus.Deleted && entry.SequenceNumber is { } seq)
            _minSequenceNumber = Math.Min(_minSequenceNumber ?? long.MaxValue, seq);
        else if (entry.Status == ManifestEntryStatus.Added)
            _inherits = true;
    }

    /// <summary>Finishes the file; the manifest's sequence number stays unassigned until the manifest list is written.</summary>
    public ManifestFile Finish(string manifestPath)
    {
        _writer.Finish();
        // Entries that inherit the commit's sequence number are newer than any explicit one (a rewrite's, which keeps its
        // input's): the minimum is the lowest explicit one, and only without any is it left for the manifest list to assign.
        var hasUnassigned = _inherits && _minSequenceNumber is null;
        return new ManifestFile
        {
            ManifestPath = manifestPath,
            ManifestLength = _out.BytesWritten,
            PartitionSpecId = _spec.SpecId,
            Content = _content,
            SequenceNumber = ManifestFile.UnassignedSequenceNumber,
            MinSequenceNumber = hasUnassigned || _minSequenceNumber is null ? ManifestFile.UnassignedSequenceNumber : _minSequenceNumber.Value,
            AddedSnapshotId = _snapshotId,
            AddedFilesCount = _added,
            ExistingFilesCount = _existing,
            DeletedFilesCount = _deleted,
            AddedRowsCount = _addedRows,
            ExistingRowsCount = _existingRows,
            DeletedRowsCount = _deletedRows,
            Partitions = _summary.Build(),
        };
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>Counts bytes so the manifest length is known without a second request to the store.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesWritten { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            BytesWritten += count;
        }
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            BytesWritten += buffer.Length;
        }
    }
}
