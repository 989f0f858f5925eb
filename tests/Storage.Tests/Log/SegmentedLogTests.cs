using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using DataPlane.Storage.Durability;
using DataPlane.Storage.Log;
using Xunit;

namespace DataPlane.Storage.Tests.Log;

/// <summary>The segmented log under both logs' settings: real files, segments rolled, torn tails cut or zeroed, released.</summary>
public sealed class SegmentedLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("segmented-log-").FullName;

    private static SegmentedLogOptions Options(bool preallocate, long segmentBytes = 200) => new()
    {
        Extension = ".seg",
        SegmentBytes = segmentBytes,
        Preallocate = preallocate,
        ContiguousKeys = !preallocate,
        IndexRecords = true,
    };

    private static void Append(SegmentedLog log, long key, int count, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var header = TestFraming.Header(payload, key, count);
        log.Add(key, count, header, TestFraming.Body(header, payload));
    }

    private static List<string> ReadAll(SegmentedLog log, long from)
    {
        var read = new List<string>();
        log.Read(from, (key, count, _, payload) =>
        {
            read.Add($"{key}+{count}:{Encoding.UTF8.GetString(payload)}");
            return true;
        });
        return read;
    }

    private static string Text(int i) => $"record-{i}-" + new string('x', 30);

    private string SegmentPath(long key) => Path.Combine(_dir, key.ToString("D20", CultureInfo.InvariantCulture) + ".seg");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Records_roll_into_segments_named_by_their_first_key_and_read_back_after_reopen(bool preallocate)
    {
        var expected = new List<string>();
        using (var log = SegmentedLog.Open(_dir, Options(preallocate), TestFraming.Instance, firstKey: 10))
        {
            long key = 10;
            for (int i = 0; i < 12; i += 3)
            {
                // A group of three records, one commit (one sync per segment it lands in).
                for (int j = i; j < i + 3; j++)
                {
                    Append(log, key, 2, Text(j));
                    expected.Add($"{key}+2:{Text(j)}");
                    key += 2;
                }
                log.Commit();
            }
            Assert.Equal(34, log.EndKey);
            Assert.True(log.SegmentCount > 2, "small segments roll");
            Assert.True(log.Syncs.Count < 12, "a group is synced together");
        }
        var names = Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(SegmentPath(10), Path.Combine(_dir, names[0]!));

        using var reopened = SegmentedLog.Open(_dir, Options(preallocate), TestFraming.Instance, firstKey: 0);
        Assert.Equal(0, reopened.TruncatedBytesOnOpen);
        Assert.Equal((10, 34), (reopened.StartKey, reopened.EndKey));
        Assert.Equal(expected, ReadAll(reopened, 0));
        Assert.Equal(expected.Skip(5), ReadAll(reopened, 21)); // from the middle of the record [20, 22)
        Assert.True(reopened.TryFind(21, out var record));
        Assert.Equal((20L, 2), (record.FirstKey, record.KeyCount));
        var payload = new byte[record.PayloadLength];
        Assert.Equal(payload.Length, SegmentedLog.ReadPayload(record, payload));
        Assert.Equal(Text(5), Encoding.UTF8.GetString(payload));
        Assert.False(reopened.TryFind(34, out _));
    }

    [Theory]
    [InlineData(false, 3)]   // a few bytes of the next header
    [InlineData(false, 30)]  // a header and part of its payload
    [InlineData(false, -5)]  // the last record damaged in place
    [InlineData(true, 3)]
    [InlineData(true, 30)]
    [InlineData(true, -5)]
    public void A_torn_tail_is_cut_or_zeroed_on_open_and_appends_continue_after_the_last_whole_record(bool preallocate, int damage)
    {
        long end;
        using (var log = SegmentedLog.Open(_dir, Options(preallocate, segmentBytes: 4096), TestFraming.Instance, firstKey: 0))
        {
            for (int i = 0; i < 5; i++)
            {
                Append(log, i, 1, Text(i));
                log.Commit();
            }
            end = log.SizeBytes;
        }
        var path = SegmentPath(0);
        long fileLength = new FileInfo(path).Length;
        using (var f = new FileStream(path, FileMode.Open))
        {
            // A crash mid-write: bytes of a record that never finished, after the last whole one or over it.
            f.Position = damage > 0 ? end : end + damage;
            var torn = new byte[Math.Abs(damage)];
            Random.Shared.NextBytes(torn);
            torn[0] |= 1; // never all zeros
            f.Write(torn);
        }

        int kept = damage > 0 ? 5 : 4;
        using (var reopened = SegmentedLog.Open(_dir, Options(preallocate, segmentBytes: 4096), TestFraming.Instance, firstKey: 0))
        {
            Assert.True(reopened.TruncatedBytesOnOpen > 0);
            Assert.Equal(kept, reopened.EndKey);
            Assert.Equal(Enumerable.Range(0, kept).Select(i => $"{i}+1:{Text(i)}"), ReadAll(reopened, 0));
            var bytes = File.ReadAllBytes(path);
            long good = reopened.SizeBytes;
            if (preallocate)
            {
                // The file keeps its allocated size; everything after the last whole record reads as zeros again.
                Assert.Equal(fileLength, bytes.Length);
                Assert.DoesNotContain(bytes.AsSpan((int)good).ToArray(), b => b != 0);
            }
            else
            {
                Assert.Equal(good, bytes.Length);
            }
            Append(reopened, kept, 1, "after");
            reopened.Commit();
        }
        using var again = SegmentedLog.Open(_dir, Options(preallocate, segmentBytes: 4096), TestFraming.Instance, firstKey: 0);
        Assert.Equal(0, again.TruncatedBytesOnOpen);
        Assert.Equal($"{kept}+1:after", ReadAll(again, kept).Single());
    }

    [Fact]
    public void Release_deletes_only_segments_wholly_below_the_key_and_never_the_active_one()
    {
        using var log = SegmentedLog.Open(_dir, Options(preallocate: false), TestFraming.Instance, firstKey: 0);
        for (int i = 0; i < 12; i++)
        {
            Append(log, i, 1, Text(i));
            log.Commit();
        }
        var segments = Directory.GetFiles(_dir).Order(StringComparer.Ordinal).ToList();
        Assert.True(segments.Count >= 3);
        long secondStart = long.Parse(Path.GetFileNameWithoutExtension(segments[1]), CultureInfo.InvariantCulture);

        // One key short of the second segment's start: the first segment still holds a record needed.
        Assert.Equal(0, log.ReleaseBefore(secondStart - 1).Segments);
        var (released, bytes) = log.ReleaseBefore(secondStart);
        Assert.Equal(1, released);
        Assert.True(bytes > 0);
        Assert.False(File.Exists(segments[0]));
        Assert.Equal(secondStart, log.StartKey);
        Assert.Equal(Enumerable.Range((int)secondStart, 12 - (int)secondStart).Select(i => $"{i}+1:{Text(i)}"), ReadAll(log, 0));

        log.ReleaseBefore(long.MaxValue);
        Assert.Equal(1, log.SegmentCount);
        Assert.Single(Directory.GetFiles(_dir));
        Assert.Equal(12, log.EndKey);
    }

    [Fact]
    public void A_log_keeping_its_last_record_drops_an_empty_segment_left_by_a_crash_at_a_roll_and_keeps_the_record()
    {
        var options = Options(preallocate: false) with { KeepLastRecord = true };
        using (var log = SegmentedLog.Open(_dir, options, TestFraming.Instance, firstKey: 0))
        {
            for (int i = 0; i < 3; i++)
            {
                Append(log, i, 1, Text(i));
                log.Commit();
            }
            log.Roll(); // the next segment exists, its first record never written
        }
        Assert.True(File.Exists(SegmentPath(3)));

        using var reopened = SegmentedLog.Open(_dir, options, TestFraming.Instance, firstKey: 0);
        Assert.False(File.Exists(SegmentPath(3)));
        reopened.ReleaseBefore(3);
        Assert.Equal("2+1:" + Text(2), ReadAll(reopened, 2).Single());
        Append(reopened, 3, 1, "next");
        reopened.Commit();
        Assert.Equal(4, reopened.EndKey);
    }

    [Fact]
    public void A_record_whose_key_does_not_follow_is_refused_and_nothing_is_written()
    {
        using var log = SegmentedLog.Open(_dir, Options(preallocate: false), TestFraming.Instance, firstKey: 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => Append(log, 4, 1, "before the start"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Append(log, 6, 1, "a gap"));
        log.Commit();
        Assert.Equal(0, log.SizeBytes);
        Assert.Equal(0, new FileInfo(SegmentPath(5)).Length);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A framing for the test: [int32 length][int64 first key][int32 count] payload [uint32 CRC-32C of all before].</summary>
    private sealed class TestFraming : IRecordFraming
    {
        public static TestFraming Instance { get; } = new();

        public int HeaderBytes => 16;

        public int TrailerBytes => 4;

        public static byte[] Header(byte[] payload, long key, int count)
        {
            var header = new byte[16];
            BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(4), key);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), count);
            return header;
        }

        /// <summary>The payload and its trailer.</summary>
        public static byte[] Body(byte[] header, byte[] payload)
        {
            var body = new byte[payload.Length + 4];
            payload.CopyTo(body, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(payload.Length), ~Crc32C.Append(Crc32C.Append(~0u, header), payload));
            return body;
        }

        public bool TryReadHeader(ReadOnlySpan<byte> header, out int payloadLength, out long firstKey, out int keyCount)
        {
            payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header);
            firstKey = BinaryPrimitives.ReadInt64LittleEndian(header[4..]);
            keyCount = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            return payloadLength is >= 0 and < 1 << 20;
        }

        public bool IsWhole(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> trailer) =>
            BinaryPrimitives.ReadUInt32LittleEndian(trailer) == ~Crc32C.Append(Crc32C.Append(~0u, header), payload);
    }
}
