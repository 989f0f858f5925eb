using Confluent.Kafka;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// The value deserializer of the source's consumer: librdkafka hands each message's value over as a span, which is
/// copied straight into one reused NDJSON buffer (a newline after each), so a batch of messages costs no array per
/// message and reaches the stream's parser as one body. A message must be one JSON object (with <paramref name="lines"/>,
/// of the <c>ndjson</c> format: JSON objects a line each): checking that it starts with '{' and ends with '}' keeps two
/// broken messages from joining into one record across the newline.
/// </summary>
internal sealed class MessageBuffer(int maxRecordBytes, bool lines = false) : IDeserializer<MessageSlice>
{
    private readonly int _maxBytes = lines ? Math.Max(maxRecordBytes, KafkaSourceDefinition.MaxMessageBytes) : maxRecordBytes;

    private byte[] _bytes = new byte[64 * 1024];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, Length);

    public ReadOnlySpan<byte> Slice(MessageSlice slice) => _bytes.AsSpan(slice.Start, slice.Length);

    public void Clear() => Length = 0;

    public MessageSlice Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull)
            return new MessageSlice(0, 0, MessageShape.Empty);
        if (data.Length >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
            data = data[3..]; // UTF-8 byte order mark, which the parser only skips at the start of a body
        data = data.Trim(" \t\r\n"u8);
        if (data.IsEmpty)
            return new MessageSlice(0, 0, MessageShape.Empty);
        if (data.Length > _maxBytes)
            return new MessageSlice(0, data.Length, MessageShape.TooLarge);
        if (data[0] != (byte)'{' || data[^1] != (byte)'}')
            return new MessageSlice(0, data.Length, MessageShape.NotObject);
        return new MessageSlice(Append(data), data.Length, MessageShape.Object);
    }

    /// <summary>Appends a value and its newline; returns where the value starts.</summary>
    public int Append(ReadOnlySpan<byte> value)
    {
        int needed = Length + value.Length + 1;
        if (needed > _bytes.Length)
            System.Array.Resize(ref _bytes, Math.Max(needed, _bytes.Length * 2));
        int start = Length;
        value.CopyTo(_bytes.AsSpan(start));
        _bytes[start + value.Length] = (byte)'\n';
        Length = needed;
        return start;
    }
}
