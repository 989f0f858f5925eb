using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Storage;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// Writes Arrow record batches as NDJSON files (one JSON object per line, fields by their output names) under a
/// directory key, starting a new file once the current one reaches the target size. Records are encoded into one
/// reused buffer that goes to storage a megabyte at a time. Not thread-safe: one writer per roll.
/// </summary>
internal sealed class NdjsonFileWriter(IObjectStore store, string directoryKey, DataFileWriterOptions options, bool rawRecords) : IAsyncDisposable
{
    private const int FlushBytes = 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new(FlushBytes + 64 * 1024);
    private readonly List<WrittenDataFile> _written = [];
    private readonly string _fileNamePrefix = Guid.NewGuid().ToString("N");
    private Utf8JsonWriter? _json;
    private JsonEncodedText[]? _names;
    private ObjectWriteStream? _file;
    private string? _key;
    private long _fileBytes;
    private long _fileRows;
    private int _fileCount;

    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        _names ??= batch.Schema.FieldsList.Select(f => JsonEncodedText.Encode(f.Name)).ToArray();
        _json ??= new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        for (int row = 0; row < batch.Length; row++)
        {
            _file ??= await OpenAsync(cancellationToken);
            if (rawRecords)
            {
                // A schemaless stream's records are already JSON text: each is its own line, unchanged.
                _buffer.Write(((StringArray)batch.Column(0)).GetBytes(row));
            }
            else
            {
                _json.Reset(_buffer);
                ArrowJson.WriteRow(_json, batch, row, _names);
                _json.Flush();
            }
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            _fileRows++;
            if (_buffer.WrittenCount >= FlushBytes)
                await DrainAsync(cancellationToken);
            if (_fileBytes + _buffer.WrittenCount >= options.TargetFileSizeBytes)
                await CloseFileAsync(cancellationToken);
        }
    }

    /// <summary>Closes the current file and returns every file this writer produced.</summary>
    public async Task<IReadOnlyList<WrittenDataFile>> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_file is not null)
            await CloseFileAsync(cancellationToken);
        return _written;
    }

    private async Task<ObjectWriteStream> OpenAsync(CancellationToken cancellationToken)
    {
        _key = string.Create(CultureInfo.InvariantCulture, $"{directoryKey.TrimEnd('/')}/{_fileNamePrefix}-{_fileCount++:D5}.ndjson");
        if (options.OnNewFile is { } record)
            await record(_key, cancellationToken);
        _fileBytes = 0;
        _fileRows = 0;
        return await store.OpenWriteAsync(_key, options.PutOptions ?? new PutOptions { ContentType = "application/x-ndjson" }, cancellationToken);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        await _file!.WriteAsync(_buffer.WrittenMemory, cancellationToken);
        _fileBytes += _buffer.WrittenCount;
        _buffer.ResetWrittenCount();
    }

    private async Task CloseFileAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken);
        var file = _file!;
        _file = null;
        await using (file)
            await file.CompleteAsync(cancellationToken);
        _written.Add(new WrittenDataFile(_key!, _fileRows, _fileBytes, Empty<long>(), Empty<long>(), Empty<long>(), Empty<long>(), Empty<byte[]>(), Empty<byte[]>(), []));
    }

    private static Dictionary<int, T> Empty<T>() => [];

    public async ValueTask DisposeAsync()
    {
        // An uncompleted file is abandoned: its object never appears.
        if (_file is not null)
            await _file.DisposeAsync();
        _file = null;
        if (_json is not null)
            await _json.DisposeAsync();
    }
}
