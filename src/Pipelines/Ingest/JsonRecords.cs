using System.Runtime.CompilerServices;
using Apache.Arrow;
using DataPlane.Pipelines.Streams;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// A file of JSON records (NDJSON, or one JSON array of objects) as Arrow batches of a table's schema, each value read
/// as a stream reads it (the same types, spellings and checks): what <c>dataplane table append</c> writes.
/// </summary>
public static class JsonRecords
{
    /// <summary>NDJSON is read a chunk of about this many bytes at a time (whole records); a JSON array is read whole.</summary>
    public const int ChunkBytes = 8 << 20;

    /// <summary>
    /// The records as batches, each valid until the next is asked for. An <see cref="ArgumentException"/> names the first
    /// problems (record number counted from 0 over the whole input, field, reason) and nothing after them is returned.
    /// </summary>
    public static async IAsyncEnumerable<RecordBatch> ReadAsync(Stream input, IcebergSchema schema,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = new StreamDefinition("records", schema.Columns.Select(c => new StreamField(c.Id, c.Name, c.Type, c.Required)).ToList(),
            schemaless: false, DateTimeOffset.UtcNow);
        var parser = new RecordBatchParser(stream);
        var buffer = new byte[ChunkBytes];
        int filled = 0;
        long recordsBefore = 0;
        bool array = false, first = true;
        while (true)
        {
            if (filled == buffer.Length)
                System.Array.Resize(ref buffer, checked(buffer.Length * 2)); // a record, or an array, longer than the buffer
            int read = await input.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            filled += read;
            if (first && filled > 0)
            {
                int at = 0;
                while (at < filled && buffer[at] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF)
                    at++;
                if (at == filled && read > 0)
                    continue;
                array = at < filled && buffer[at] == (byte)'[';
                first = false;
            }
            // An array is parsed once it is all in; NDJSON up to the last whole line, or all of it at the end.
            int end = read == 0 ? filled : array ? -1 : System.Array.LastIndexOf(buffer, (byte)'\n', filled - 1) + 1;
            if (end > 0)
            {
                var outcome = parser.Parse(buffer.AsSpan(0, end), int.MaxValue);
                if (outcome != ParseOutcome.Accepted)
                    throw new ArgumentException(Describe(parser, recordsBefore));
                if (parser.RecordCount > 0)
                {
                    using var batch = parser.Build(stream.ArrowSchema);
                    yield return batch;
                }
                recordsBefore += parser.RecordCount;
                buffer.AsSpan(end, filled - end).CopyTo(buffer);
                filled -= end;
            }
            if (read == 0)
                yield break;
        }
    }

    private static string Describe(RecordBatchParser parser, long recordsBefore)
    {
        if (parser.Error is { } error)
            return $"The records are not valid JSON after record {recordsBefore}: {error}";
        var problems = parser.Problems.Take(5).Select(p =>
            $"record {recordsBefore + p.Record}{(p.Field is null ? "" : $", field '{p.Field}'")}: {p.Reason}");
        return $"{parser.Problems.Count}{(parser.Problems.Count >= RecordBatchParser.MaxProblems ? "+" : "")} record problem(s): {string.Join("; ", problems)}.";
    }
}
