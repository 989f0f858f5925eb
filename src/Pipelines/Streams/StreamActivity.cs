using System.Text.Json;

namespace DataPlane.Pipelines.Streams;

/// <summary>
/// What a stream's HTTP ingestion did since the server started: accepted requests, records and bytes, rejected
/// requests by reason with the latest few, and the last 15 minutes in 5-second buckets (<c>GET
/// /api/v1/streams/NAME/activity</c>, the console's throughput chart). Per request, never per record; the buckets are
/// allocated at the first request, so an idle stream costs a few fields.
/// </summary>
internal sealed class StreamActivity
{
    public const int BucketSeconds = 5;
    public const int BucketCount = 180;
    public const int RecentRejections = 10;
    private const int MaxMessageChars = 500;

    private readonly object _gate = new();
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow;
    private long[]? _bucketOf;
    private long[]? _records;
    private long[]? _bytes;
    private long[]? _rejected;
    private long _acceptedRequests, _acceptedRecords, _acceptedBytes, _rejectedRequests;
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);
    private readonly Queue<Rejection> _recent = new();

    private sealed record Rejection(DateTimeOffset At, string Reason, int Status, string Message);

    public void Accepted(int records, long bytes, DateTimeOffset now)
    {
        lock (_gate)
        {
            _acceptedRequests++;
            _acceptedRecords += records;
            _acceptedBytes += bytes;
            int slot = Slot(now);
            _records![slot] += records;
            _bytes![slot] += bytes;
        }
    }

    public void Rejected(string reason, int status, string message, DateTimeOffset now)
    {
        if (message.Length > MaxMessageChars) message = message[..MaxMessageChars] + "…";
        lock (_gate)
        {
            _rejectedRequests++;
            _byReason[reason] = _byReason.GetValueOrDefault(reason) + 1;
            int slot = Slot(now);
            _rejected![slot]++;
            _recent.Enqueue(new Rejection(now, reason, status, message));
            while (_recent.Count > RecentRejections) _recent.Dequeue();
        }
    }

    /// <summary>The ring slot of <paramref name="now"/>'s bucket, cleared when it last held an older one. Under the gate.</summary>
    private int Slot(DateTimeOffset now)
    {
        _bucketOf ??= new long[BucketCount];
        _records ??= new long[BucketCount];
        _bytes ??= new long[BucketCount];
        _rejected ??= new long[BucketCount];
        long bucket = now.ToUnixTimeSeconds() / BucketSeconds;
        int slot = (int)(bucket % BucketCount);
        if (_bucketOf[slot] != bucket)
        {
            _bucketOf[slot] = bucket;
            _records[slot] = _bytes[slot] = _rejected[slot] = 0;
        }
        return slot;
    }

    /// <summary>The activity document: totals, rejections and the buckets of the last 15 minutes, oldest first, ending with now's.</summary>
    public void Write(Utf8JsonWriter w, DateTimeOffset now)
    {
        lock (_gate)
        {
            w.WriteStartObject();
            w.WriteString("since", _since);
            w.WriteStartObject("accepted");
            w.WriteNumber("requests", _acceptedRequests);
            w.WriteNumber("records", _acceptedRecords);
            w.WriteNumber("bytes", _acceptedBytes);
            w.WriteEndObject();
            w.WriteStartObject("rejected");
            w.WriteNumber("requests", _rejectedRequests);
            w.WriteStartObject("by_reason");
            foreach (var (reason, count) in _byReason.OrderBy(r => r.Key, StringComparer.Ordinal))
                w.WriteNumber(reason, count);
            w.WriteEndObject();
            w.WriteStartArray("recent");
            foreach (var r in _recent.Reverse())
            {
                w.WriteStartObject();
                w.WriteString("at", r.At);
                w.WriteString("reason", r.Reason);
                w.WriteNumber("status", r.Status);
                w.WriteString("message", r.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            long last = now.ToUnixTimeSeconds() / BucketSeconds;
            long first = last - BucketCount + 1;
            w.WriteStartObject("buckets");
            w.WriteNumber("seconds", BucketSeconds);
            w.WriteNumber("start", first * BucketSeconds);
            WriteSeries(w, "records", _records, first);
            WriteSeries(w, "bytes", _bytes, first);
            WriteSeries(w, "rejected", _rejected, first);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    private void WriteSeries(Utf8JsonWriter w, string name, long[]? values, long first)
    {
        w.WriteStartArray(name);
        for (long bucket = first; bucket < first + BucketCount; bucket++)
        {
            int slot = (int)(bucket % BucketCount);
            w.WriteNumberValue(values is not null && _bucketOf![slot] == bucket ? values[slot] : 0);
        }
        w.WriteEndArray();
    }
}
