using System.Globalization;
using Apache.Arrow;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using ParquetSharp;
using ParquetSharp.Arrow;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Writes Arrow record batches as Iceberg Parquet data files on an object store: each column carries its field id,
/// the footer carries the table schema under <c>iceberg.schema</c> (and no <c>ARROW:schema</c>, whose extension types
/// some readers refuse), and every file's metrics are folded from the batches as they pass. Files are streamed to
/// storage a row group at a time and rolled past the target size. Column encodings follow the options'
/// <see cref="ParquetProfile"/>. Not thread-safe: one writer per partition and task.
/// </summary>
public sealed class DataFileWriter : IAsyncDisposable
{
    /// <summary>The footer key under which Iceberg readers (icebird among them) find the table schema.</summary>
    public const string SchemaFooterKey = "iceberg.schema";

    private const int FooterTailBytes = 1024 * 1024;

    private readonly IObjectStore _store;
    private readonly string _directoryKey;
    private readonly DataFileWriterOptions _options;
    private readonly ArrowSchema _arrowSchema;
    private readonly string _schemaJson;
    private readonly WriterProperties _properties;
    private readonly ArrowWriterProperties _arrowProperties;
    private readonly ColumnMetricsCollector _metrics;
    private readonly List<WrittenDataFile> _written = [];
    private readonly string _fileNamePrefix = Guid.NewGuid().ToString("N");
    private OpenFile? _file;
    private int _fileCount;

    /// <param name="directoryKey">The key prefix under which files are created (a table's <c>data/</c> folder, or a partition's).</param>
    public DataFileWriter(IObjectStore store, string directoryKey, IcebergSchema schema, DataFileWriterOptions? options = null)
    {
        _store = store;
        _directoryKey = directoryKey.TrimEnd('/');
        _options = options ?? new DataFileWriterOptions();
        _options.Validate();
        _schemaJson = schema.ToJson();
        _arrowSchema = ArrowSchemaMapping.ToArrow(schema);
        _properties = WriterProperties(schema, _options);
        // Not StoreSchema: Arrow would write ARROW:schema; the iceberg.schema key is added to the footer on close instead.
        using (var arrowBuilder = new ArrowWriterPropertiesBuilder())
            _arrowProperties = arrowBuilder.Build();
        _metrics = new ColumnMetricsCollector(schema, _options.MetricsTruncateLength);
    }

    /// <summary>Files completed so far (the one being written is not among them).</summary>
    public IReadOnlyList<WrittenDataFile> WrittenFiles => _written;

    /// <summary>Appends a batch whose columns are the schema's columns, by name and in order, with matching Arrow types.</summary>
    public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken = default) =>
        WriteAsync(batch, ArrowBytes(batch), cancellationToken);

    /// <param name="arrowBytes">The batch's share of Arrow memory; a slice's buffers are its parent's, so its owner says.</param>
    internal async Task WriteAsync(RecordBatch batch, long arrowBytes, CancellationToken cancellationToken)
    {
        if (batch.Length == 0) return;
        var conformed = ArrowBatchConformer.Conform(batch, _arrowSchema);
        _file ??= await OpenAsync(cancellationToken);
        _file.Write(conformed, arrowBytes);
        _metrics.Add(conformed);
        if (_file.BufferedBytes >= _options.RowGroupSizeBytes)
        {
            if (_file.EstimatedSize >= _options.TargetFileSizeBytes)
                await CloseFileAsync(cancellationToken);
            else
                _file.EndRowGroup();
        }
    }

    /// <summary>Closes the current file and returns every file this writer produced.</summary>
    public async Task<IReadOnlyList<WrittenDataFile>> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_file is not null)
            await CloseFileAsync(cancellationToken);
        return _written;
    }

    public async ValueTask DisposeAsync()
    {
        // An uncompleted file is abandoned: its object never appears.
        if (_file is not null)
            await _file.DisposeAsync();
        _file = null;
        _properties.Dispose();
        _arrowProperties.Dispose();
    }

    private async Task<OpenFile> OpenAsync(CancellationToken cancellationToken)
    {
        string key = string.Create(CultureInfo.InvariantCulture, $"{_directoryKey}/{_fileNamePrefix}-{_fileCount++:D5}.parquet");
        if (_options.OnNewFile is { } record)
            await record(key, cancellationToken);
        var stream = await _store.OpenWriteAsync(key, _options.PutOptions, cancellationToken);
        _metrics.Reset();
        return new OpenFile(key, stream, _arrowSchema, _properties, _arrowProperties);
    }

    private async Task CloseFileAsync(CancellationToken cancellationToken)
    {
        var file = _file!;
        _file = null;
        await using (file)
        {
            var (length, splitOffsets, tail) = file.Close(_metrics.Leaves.Count, _schemaJson);
            var sizes = ParquetFooter.LeafColumnSizes(tail, length);
            await file.Stream.CompleteAsync(cancellationToken);
            if (sizes is null)
            {
                await using var read = await ObjectReadStream.OpenAsync(_store, file.Key, cancellationToken);
                sizes = ParquetFooter.LeafColumnSizes(read);
            }
            _written.Add(Describe(file.Key, file.Rows, length, sizes, splitOffsets));
        }
    }

    private WrittenDataFile Describe(string key, long rows, long length, long[] leafSizes, IReadOnlyList<long> splitOffsets)
    {
        var leaves = _metrics.Leaves;
        if (leafSizes.Length != leaves.Count)
            throw new InvalidOperationException($"The Parquet file {key} has {leafSizes.Length} leaf columns; the schema has {leaves.Count}.");
        var columnSizes = new Dictionary<int, long>();
        var values = new Dictionary<int, long>();
        var nulls = new Dictionary<int, long>();
        var nans = new Dictionary<int, long>();
        var lower = new Dictionary<int, byte[]>();
        var upper = new Dictionary<int, byte[]>();
        for (int i = 0; i < leaves.Count; i++)
        {
            var leaf = leaves[i];
            columnSizes[leaf.FieldId] = leafSizes[i];
            values[leaf.FieldId] = leaf.ValueCount;
            nulls[leaf.FieldId] = leaf.NullCount;
            if (leaf.NanCount is { } nan) nans[leaf.FieldId] = nan;
            if (leaf.LowerBound() is { } lo) lower[leaf.FieldId] = lo;
            if (leaf.UpperBound() is { } hi) upper[leaf.FieldId] = hi;
        }
        return new WrittenDataFile(key, rows, length, columnSizes, values, nulls, nans, lower, upper, splitOffsets);
    }

    private static WriterProperties WriterProperties(IcebergSchema schema, DataFileWriterOptions options)
    {
        using var builder = new WriterPropertiesBuilder();
        builder.Compression(options.Compression switch
        {
            DataFileCompression.Zstd => Compression.Zstd,
            DataFileCompression.Snappy => Compression.Snappy,
            DataFileCompression.Gzip => Compression.Gzip,
            DataFileCompression.Lz4 => Compression.Lz4, // LZ4_RAW
            _ => Compression.Uncompressed,
        });
        int? level = options.CompressionLevel ?? (options.Compression == DataFileCompression.Zstd ? 3 : null);
        if (level is { } l)
            builder.CompressionLevel(l);
        // Iceberg's decimal mapping: int32 up to precision 9, int64 up to 18, minimal fixed bytes beyond.
        builder.EnableStoreDecimalAsInteger();
        // Rows per group are bounded by bytes (RowGroupSizeBytes), not by Arrow's row-count default.
        builder.MaxRowGroupLength(64L * 1024 * 1024);
        builder.DataPagesize(options.PageSizeBytes);
        // The default profile is Arrow's own default: dictionaries falling back to plain pages, version 1 data pages.
        if (options.Profile != ParquetProfile.Compact)
            return builder.Build();
        // Integers and timestamps are mostly ordered or narrow, where delta packing beats dictionaries that overflow into
        // plain pages; floating point compresses far better split by byte. Strings keep dictionaries. (bench/TableFormat)
        foreach (var (path, type) in LeafColumns(schema.Columns, null))
        {
            var encoding = type.TypeId switch
            {
                TypeId.Int or TypeId.Long or TypeId.Date or TypeId.Time or TypeId.Timestamp or TypeId.TimestampTz => Encoding.DeltaBinaryPacked,
                TypeId.Float or TypeId.Double => Encoding.ByteStreamSplit,
                _ => (Encoding?)null,
            };
            if (encoding is { } e)
                builder.DisableDictionary(path).Encoding(path, e);
        }
        return builder.Build();
    }

    /// <summary>Parquet column paths of the primitive leaves (lists as <c>a.list.element</c>, maps as <c>m.key_value.key</c>).</summary>
    private static IEnumerable<(string Path, PrimitiveType Type)> LeafColumns(IEnumerable<NestedField> fields, string? prefix)
    {
        foreach (var field in fields)
        {
            string path = prefix is null ? field.Name : prefix + "." + field.Name;
            foreach (var leaf in Leaves(field.Type, path))
                yield return leaf;
        }
    }

    private static IEnumerable<(string Path, PrimitiveType Type)> Leaves(IcebergType type, string path) => type switch
    {
        PrimitiveType p => [(path, p)],
        StructType s => LeafColumns(s.Fields, path),
        ListType l => Leaves(l.ElementType, path + ".list.element"),
        MapType m => Leaves(m.KeyType, path + ".key_value.key").Concat(Leaves(m.ValueType, path + ".key_value.value")),
        _ => [],
    };

    /// <summary>One Parquet file being written.</summary>
    private sealed class OpenFile : IAsyncDisposable
    {
        private readonly CountingTailStream _counting;
        private readonly FooterRewriteStream _footer;
        private readonly FileWriter _writer;
        private readonly List<long> _splitOffsets = [];
        private long _flushedArrowBytes;
        private bool _rowGroupPending;
        private bool _closed;

        public OpenFile(string key, ObjectWriteStream stream, ArrowSchema schema, WriterProperties properties, ArrowWriterProperties arrowProperties)
        {
            Key = key;
            Stream = stream;
            _counting = new CountingTailStream(stream, FooterTailBytes);
            _footer = new FooterRewriteStream(_counting);
            _writer = new FileWriter(_footer, schema, properties, arrowProperties, leaveOpen: true);
        }

        public string Key { get; }
        public ObjectWriteStream Stream { get; }
        public long Rows { get; private set; }
        public long BufferedBytes { get; private set; }

        /// <summary>Bytes on storage plus the open row group at the compression ratio seen so far.</summary>
        public long EstimatedSize =>
            _counting.Position + (_flushedArrowBytes == 0 ? BufferedBytes : (long)((double)BufferedBytes * _counting.Position / _flushedArrowBytes));

        public void Write(RecordBatch batch, long arrowBytes)
        {
            if (_rowGroupPending)
            {
                // Starting a group flushes the previous one; done lazily so a file never ends on an empty group.
                _splitOffsets.Add(_counting.Position);
                _writer.NewBufferedRowGroup();
                _flushedArrowBytes += BufferedBytes;
                BufferedBytes = 0;
                _rowGroupPending = false;
            }
            _writer.WriteBufferedRecordBatch(batch);
            Rows += batch.Length;
            BufferedBytes += arrowBytes;
        }

        public void EndRowGroup() => _rowGroupPending = true;

        /// <param name="leafColumns">Bounds the footer's size: a column chunk's metadata per leaf and row group.</param>
        public (long Length, IReadOnlyList<long> SplitOffsets, byte[] Tail) Close(int leafColumns, string schemaJson)
        {
            _splitOffsets.Add(_counting.Position);
            // Chunk metadata is a few hundred bytes; statistics add at most twice Arrow's 4 KiB limit per value.
            _footer.Hold(Math.Max(4L << 20, (long)_splitOffsets.Count * leafColumns * (16 << 10) + (1 << 20) + schemaJson.Length * 4L));
            _writer.Close();
            _footer.Complete(footer => ParquetFooterMetadata.WithKeyValue(footer, SchemaFooterKey, schemaJson));
            _closed = true;
            return (_counting.Position, _splitOffsets, _counting.Tail());
        }

        public async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                try { _writer.Close(); } catch (ParquetException) { }
            }
            _writer.Dispose();
            await Stream.DisposeAsync();
        }

    }

    internal static long ArrowBytes(RecordBatch batch)
    {
        long total = 0;
        for (int i = 0; i < batch.ColumnCount; i++)
            total += ArrowBytes(batch.Column(i).Data);
        return total;
    }

    private static long ArrowBytes(ArrayData data)
    {
        long total = 0;
        foreach (var buffer in data.Buffers)
            total += buffer.Length;
        foreach (var child in data.Children ?? [])
            total += ArrowBytes(child);
        return total;
    }
}
