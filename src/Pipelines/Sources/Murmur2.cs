namespace DataPlane.Pipelines.Sources;

/// <summary>
/// Kafka's default partitioner as its Java clients have it (<c>Utils.murmur2</c>, then <c>toPositive(hash) % partitions</c>),
/// which librdkafka's <c>murmur2_random</c> follows: an <c>ndjson</c> message holds records of one partition, so the
/// producer places each record itself, where a message of that record alone would have gone.
/// </summary>
internal static class Murmur2
{
    public static int Hash(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        uint h = 0x9747b28c ^ (uint)data.Length;
        int length4 = data.Length / 4;
        for (int i = 0; i < length4; i++)
        {
            int i4 = i * 4;
            uint k = data[i4] + ((uint)data[i4 + 1] << 8) + ((uint)data[i4 + 2] << 16) + ((uint)data[i4 + 3] << 24);
            unchecked
            {
                k *= m;
                k ^= k >> r;
                k *= m;
                h *= m;
                h ^= k;
            }
        }
        int tail = data.Length & ~3;
        switch (data.Length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                unchecked { h *= m; }
                break;
        }
        unchecked
        {
            h ^= h >> 13;
            h *= m;
            h ^= h >> 15;
        }
        return (int)h;
    }

    public static int Partition(ReadOnlySpan<byte> key, int partitions) => (Hash(key) & 0x7fffffff) % partitions;
}
