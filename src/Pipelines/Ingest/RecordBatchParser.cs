using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Http;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Streams;

namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// Parses one request body (a JSON array of objects, or NDJSON) against a stream's fields into Arrow column
/// builders, then serializes the batch as Arrow IPC for the log. One instance serves one request at a time and is
/// pooled per stream, so its buffers are reused.
/// </summary>
internal sealed class RecordBatchParser
{
    public const int MaxProblems = 100;

    private readonly StreamDefinition _stream;
    private readonly ColumnBuilder[] _columns;
    private readonly byte[][] _names;
    private readonly bool[] _required;
    private readonly bool[] _seen;
    private readonly LogBufferStream _ipc = new();
    private readonly FlatRecordScanner? _scanner;
    private byte[] _scratch = new byte[256];

    /// <param name="stream">The stream whose records this parses.</param>
    /// <param name="scanFlatRecords">Whether NDJSON's common records are read by <see cref="FlatRecordScanner"/>
    /// (false: every record by the reader, which the tests compare it with).</param>
    public RecordBatchParser(StreamDefinition stream, bool scanFlatRecords = true)
    {
        _stream = stream;
        _columns = stream.Fields.Select((f, i) => ColumnBuilder.For(f.Type, stream.ArrowSchema.FieldsList[i].DataType)).ToArray();
        _names = stream.Fields.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray();
        _required = stream.Fields.Select(f => f.Required).ToArray();
        _seen = new bool[_columns.Length];
        if (scanFlatRecords && !stream.Schemaless)
            _scanner = FlatRecordScanner.For(_columns, _names, _required);
    }

    public List<IngestProblem> Problems { get; } = [];
    /// <summary>Where each record parsed lies in the body (its JSON object's bytes): what a Kafka-backed stream produces.</summary>
    public List<(int Start, int Length)> RecordSpans { get; } = [];
    public int RecordCount { get; private set; }
    /// <summary>How many of them <see cref="FlatRecordScanner"/> read (the rest the reader did).</summary>
    public int ScannedCount { get; private set; }
    /// <summary>For <see cref="ParseOutcome.Malformed"/> and <see cref="ParseOutcome.RecordTooLarge"/>: what is wrong.</summary>
    public string? Error { get; private set; }

    public ParseOutcome Parse(ReadOnlySpan<byte> body, int maxRecordBytes)
    {
        Reset();
        int start = 0;
        while (start < body.Length && body[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            start++;
        if (start < body.Length && body[start] == 0xEF && body.Length - start >= 3 && body[start + 1] == 0xBB && body[start + 2] == 0xBF)
            start += 3; // UTF-8 byte order mark
        bool array = start < body.Length && body[start] == (byte)'[';
        if (!array && _scanner is not null)
        {
            if (TryScan(body, maxRecordBytes, _scanner, out var scanned))
                return scanned;
            Reset(); // the whole body again, by one reader
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowMultipleValues = !array, MaxDepth = 64 });
        try
        {
            if (array)
            {
                reader.Read();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    if (!ReadRecord(ref reader, body, 0, maxRecordBytes))
                        return Outcome();
                if (reader.Read())
                    return Malformed($"unexpected {reader.TokenType} after the closing ']' of the array");
            }
            else
            {
                while (reader.Read())
                    if (!ReadRecord(ref reader, body, 0, maxRecordBytes))
                        return Outcome();
            }
        }
        catch (JsonException e)
        {
            return Malformed($"malformed JSON in record {RecordCount}: {e.Message}");
        }
        return Outcome();
    }

    /// <summary>
    /// NDJSON with the common records read by the scanner and the others, one at a time, by a reader started at the
    /// record: the same as one reader over the whole body, which begins each record in the same state. False, to read
    /// the whole body again with one reader, when the body is not a run of objects or a record is not JSON: only that
    /// reader gives the error's line and position as it reads them.
    /// </summary>
    private bool TryScan(ReadOnlySpan<byte> body, int maxRecordBytes, FlatRecordScanner scanner, out ParseOutcome outcome)
    {
        outcome = default;
        int p = 0, declined = 0;
        var options = new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = 64 };
        while (true)
        {
            while (p < body.Length && body[p] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                p++;
            if (p == body.Length)
                break;
            if (body[p] != (byte)'{')
                return false;
            // Records the scanner declines one after another (a field of a type it does not read, say) stop it trying.
            if (declined < 16 || declined * 4 < RecordCount)
            {
                int end = scanner.TryRecord(body, p, maxRecordBytes);
                if (end > 0)
                {
                    RecordSpans.Add((p, end - p));
                    RecordCount++;
                    ScannedCount++;
                    p = end;
                    continue;
                }
                declined++;
            }
            var reader = new Utf8JsonReader(body[p..], options);
            try
            {
                reader.Read();
                if (!ReadRecord(ref reader, body, p, maxRecordBytes))
                {
                    outcome = Outcome();
                    return true;
                }
            }
            catch (JsonException)
            {
                return false;
            }
            p += (int)reader.BytesConsumed;
        }
        outcome = Outcome();
        return true;
    }

    private ParseOutcome Outcome() =>
        Error is not null ? ParseOutcome.RecordTooLarge : Problems.Count > 0 ? ParseOutcome.Invalid : ParseOutcome.Accepted;

    private ParseOutcome Malformed(string message)
    {
        Error = message;
        return ParseOutcome.Malformed;
    }

    /// <summary>Reads one record, the reader being over <paramref name="body"/> from <paramref name="offset"/>; false to
    /// stop (too many problems, or a record over the size limit).</summary>
    private bool ReadRecord(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, int offset, int maxRecordBytes)
    {
        int index = RecordCount++;
        long recordStart = offset + reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            AppendNullRow();
            return AddProblem(index, null, $"the record is {DescribeToken(reader.TokenType)}; each record must be a JSON object");
        }

        if (_stream.Schemaless)
        {
            reader.Skip();
            int length = checked((int)(offset + reader.BytesConsumed - recordStart));
            if (length > maxRecordBytes)
                return TooLarge(index, length, maxRecordBytes);
            var text = body.Slice((int)recordStart, length);
            if (!Utf8.IsValid(text))
            {
                _columns[0].AppendNull();
                return AddProblem(index, null, JsonText.NotUtf8(text, "the record"));
            }
            _columns[0].AppendUtf8(text);
            RecordSpans.Add(((int)recordStart, length));
            return true;
        }

        System.Array.Clear(_seen);
        int expected = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int column = FindColumn(ref reader, expected);
            reader.Read();
            if (column < 0)
            {
                reader.Skip(); // Fields the schema does not declare are dropped.
                continue;
            }
            expected = column + 1;
            if (_seen[column])
            {
                if (!AddProblem(index, _stream.Fields[column].Name, "the field appears twice in the record"))
                    return false;
                reader.Skip();
                continue;
            }
            _seen[column] = true;
            if (reader.TokenType == JsonTokenType.Null)
            {
                _columns[column].AppendNull();
                if (_required[column] && !AddProblem(index, _stream.Fields[column].Name, "the field is required but is null"))
                    return false;
                continue;
            }
            var problem = _columns[column].Append(ref reader, ref _scratch);
            if (problem is not null)
            {
                reader.Skip();
                if (!AddProblem(index, _stream.Fields[column].Name, problem))
                    return false;
            }
        }
        for (int c = 0; c < _columns.Length; c++)
        {
            if (_seen[c])
                continue;
            _columns[c].AppendNull();
            if (_required[c] && !AddProblem(index, _stream.Fields[c].Name, "the field is required but missing"))
                return false;
        }
        long size = offset + reader.BytesConsumed - recordStart;
        RecordSpans.Add(((int)recordStart, (int)size));
        return size <= maxRecordBytes || TooLarge(index, size, maxRecordBytes);
    }

    private int FindColumn(ref Utf8JsonReader reader, int expected) => ColumnBuilder.FindName(ref reader, _names, expected, ref _scratch);

    private void AppendNullRow()
    {
        foreach (var column in _columns)
            column.AppendNull();
    }

    private bool AddProblem(int record, string? field, string reason)
    {
        Problems.Add(new IngestProblem(record, field, reason));
        return Problems.Count < MaxProblems;
    }

    private bool TooLarge(int record, long size, int max)
    {
        Error = $"record {record} is {size} bytes, over the maximum record size of {max} bytes";
        return false;
    }

    private static string DescribeToken(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    /// <summary>The accepted records as Arrow IPC (valid until the next Parse).</summary>
    public ReadOnlyMemory<byte> Serialize()
    {
        _ipc.Clear();
        SerializeTo(_ipc, _stream.ArrowSchema);
        return _ipc.Written;
    }

    /// <summary>The accepted records as Arrow IPC in a pooled buffer the caller then holds (the log takes it over).</summary>
    public LogBuffer SerializeForLog()
    {
        _ipc.Clear();
        SerializeTo(_ipc, _stream.ArrowSchema);
        return _ipc.Detach();
    }

    /// <summary>Appends the accepted records as an Arrow IPC stream to <paramref name="destination"/>, under
    /// <paramref name="schema"/>: the stream's fields, with schema metadata of the caller's (a source's positions).</summary>
    public void SerializeTo(Stream destination, Schema schema)
    {
        using var batch = Build(schema);
        using var writer = new ArrowStreamWriter(destination, schema, leaveOpen: true);
        writer.WriteRecordBatch(batch);
        writer.WriteEnd();
    }

    /// <summary>The accepted records as a batch of <paramref name="schema"/> (the stream's fields), valid until the next Parse.</summary>
    public RecordBatch Build(Schema schema)
    {
        var arrays = new IArrowArray[_columns.Length];
        for (int c = 0; c < _columns.Length; c++)
            arrays[c] = _columns[c].Build();
        return new RecordBatch(schema, arrays, RecordCount);
    }

    private void Reset()
    {
        foreach (var column in _columns)
            column.Clear();
        Problems.Clear();
        RecordSpans.Clear();
        RecordCount = 0;
        ScannedCount = 0;
        Error = null;
    }
}
