using System.Text;
using DataPlane.Pipelines.Log;
using Xunit;

namespace DataPlane.Pipelines.Tests.Log;

public sealed class IngestLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-log-").FullName;

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"batch-{i}-" + new string('x', i % 50));

    private static string ReadAll(IngestLog log, long from, out long end)
    {
        var text = new StringBuilder();
        long offset = from;
        while (log.TryRead(offset, out var batch))
        {
            text.Append(Encoding.UTF8.GetString(batch.Payload.Span)).Append('|');
            offset = batch.EndOffset;
            batch.Release();
        }
        end = offset;
        return text.ToString();
    }

    [Fact]
    public async Task Concurrent_appends_get_consecutive_offsets_share_flushes_and_read_back_after_reopen()
    {
        var options = new IngestLogOptions { SegmentBytes = 4096 };
        var expected = new Dictionary<long, string>();
        await using (var log = IngestLog.Open(_dir, options))
        {
            var appends = Enumerable.Range(0, 400).Select(i => (i, task: Task.Run(() => log.AppendAsync(Payload(i), 3)))).ToList();
            foreach (var (i, task) in appends)
                expected[await task] = Encoding.UTF8.GetString(Payload(i));
            Assert.Equal(1200, log.EndOffset);
            Assert.True(log.FlushCount < 400, $"400 concurrent appends took {log.FlushCount} flushes; group commit should share them");
            Assert.True(log.SegmentCount > 1, "small segments roll");
        }

        await using var reopened = IngestLog.Open(_dir, options);
        Assert.Equal(0, reopened.TruncatedBytesOnOpen);
        Assert.Equal(1200, reopened.EndOffset);
        Assert.Equal(Enumerable.Range(0, 400).Select(i => (long)i * 3).ToArray(), expected.Keys.Order().ToArray());
        var all = ReadAll(reopened, 0, out long end);
        Assert.Equal(1200, end);
        Assert.Equal(string.Concat(expected.OrderBy(e => e.Key).Select(e => e.Value + "|")), all);
        // A read from the middle of a batch starts at that batch.
        Assert.True(reopened.TryRead(4, out var middle));
        Assert.Equal(3, middle.FirstOffset);
        middle.Release();
    }

    [Fact]
    public async Task A_segment_as_earlier_builds_wrote_it_reads_back_and_appends_continue_after_it()
    {
        // Two batches in the ingest log's framing (magic "DPL1", length, first offset, record count, CRC-32C, payload):
        // "hello" at offsets 0-1 and "world" at 2, in the segment named by offset 0, as the log has always written them.
        File.WriteAllBytes(Path.Combine(_dir, "00000000000000000000.segment"), Convert.FromHexString(
            "44504c3105000000000000000000000002000000aeba98d368656c6c6f44504c31050000000200000000000000010000003b3425de776f726c64"));

        await using (var log = IngestLog.Open(_dir, new IngestLogOptions()))
        {
            Assert.Equal((0L, 3L, 0L), (log.StartOffset, log.EndOffset, log.TruncatedBytesOnOpen));
            Assert.Equal("hello|world|", ReadAll(log, 0, out _));
            Assert.Equal(3, await log.AppendAsync(Encoding.UTF8.GetBytes("again"), 1));
        }
        await using var reopened = IngestLog.Open(_dir, new IngestLogOptions());
        Assert.Equal("hello|world|again|", ReadAll(reopened, 0, out long end));
        Assert.Equal(4, end);
    }

    [Theory]
    [InlineData(1)]   // a few bytes of the next header
    [InlineData(30)]  // a header and part of its payload
    [InlineData(-5)]  // the last batch's payload damaged in place
    public async Task A_torn_tail_is_cut_at_the_last_whole_batch_on_open(int damage)
    {
        await using (var log = IngestLog.Open(_dir, new IngestLogOptions()))
            for (int i = 0; i < 5; i++)
                await log.AppendAsync(Payload(i), 2);
        var segment = Directory.GetFiles(_dir).Single();
        long wholeLength = new FileInfo(segment).Length;
        if (damage > 0)
        {
            using var f = new FileStream(segment, FileMode.Append);
            var header = new byte[damage];
            Random.Shared.NextBytes(header);
            f.Write(header);
        }
        else
        {
            using var f = new FileStream(segment, FileMode.Open);
            f.Seek(damage, SeekOrigin.End);
            f.WriteByte(0xFF);
        }

        await using var reopened = IngestLog.Open(_dir, new IngestLogOptions());
        int keptBatches = damage > 0 ? 5 : 4;
        Assert.Equal(keptBatches * 2, reopened.EndOffset);
        Assert.True(reopened.TruncatedBytesOnOpen > 0);
        Assert.True(new FileInfo(segment).Length <= wholeLength);
        Assert.Equal(string.Concat(Enumerable.Range(0, keptBatches).Select(i => Encoding.UTF8.GetString(Payload(i)) + "|")), ReadAll(reopened, 0, out _));
        // Appending continues right after the last whole batch.
        Assert.Equal(keptBatches * 2, await reopened.AppendAsync(Payload(9), 1));
    }

    [Fact]
    public async Task Past_its_size_bound_the_log_refuses_appends_until_segments_are_released()
    {
        await using var log = IngestLog.Open(_dir, new IngestLogOptions { SegmentBytes = 1000, MaxBytes = 3000 });
        var payload = new byte[400];
        int accepted = 0;
        var full = await Assert.ThrowsAsync<IngestLogFullException>(async () =>
        {
            while (true) { await log.AppendAsync(payload, 1); accepted++; }
        });
        Assert.Equal(3000, full.MaxBytes);
        Assert.Equal(accepted, log.EndOffset);
        Assert.True(log.SegmentCount >= 3);

        int released = log.ReleaseBefore(log.EndOffset);
        Assert.Equal(log.EndOffset, accepted);
        Assert.True(released >= 2);
        Assert.Equal(1, log.SegmentCount);
        Assert.Single(Directory.GetFiles(_dir));
        await log.AppendAsync(payload, 1); // room again
        Assert.Throws<ArgumentOutOfRangeException>(() => log.TryRead(0, out _));
    }

    [Fact]
    public async Task An_empty_segment_left_by_a_crash_at_a_roll_is_dropped_so_the_last_batch_is_never_released()
    {
        long end;
        await using (var log = IngestLog.Open(_dir, new IngestLogOptions { SegmentBytes = 1000 }))
        {
            for (int i = 0; i < 3; i++) await log.AppendAsync(new byte[400], 1);
            end = log.EndOffset;
        }
        // The crash: the next segment's file was created, its first batch never written.
        File.Create(Path.Combine(_dir, end.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + ".segment")).Dispose();

        await using (var log = IngestLog.Open(_dir, new IngestLogOptions { SegmentBytes = 1000 }))
        {
            Assert.Equal(end, log.EndOffset);
            log.ReleaseBefore(end); // every reader has committed everything
            Assert.True(log.TryRead(end - 1, out var last), "the log's last batch must survive a release while it is the last");
            Assert.Equal(end, last.EndOffset);
            last.Release();
            Assert.Equal(end, await log.AppendAsync(new byte[10], 1));
        }
    }

    [Fact]
    public async Task Readers_keeping_up_get_batches_from_the_memory_tail_and_readers_behind_it_from_the_segments()
    {
        // Room for about three of the 1000-byte payloads.
        var options = new IngestLogOptions { SegmentBytes = 4096, TailBytes = 3500 };
        var payloads = Enumerable.Range(0, 10).Select(i => Enumerable.Repeat((byte)('a' + i), 1000).ToArray()).ToList();
        await using (var log = IngestLog.Open(_dir, options))
        {
            foreach (var p in payloads)
                await log.AppendAsync(p, 2);

            var all = ReadAll(log, 0, out long end);
            Assert.Equal(20, end);
            Assert.Equal(string.Concat(payloads.Select(p => Encoding.UTF8.GetString(p) + "|")), all);
            Assert.Equal(3, log.TailReads);
            Assert.Equal(7, log.SegmentReads);

            // A batch evicted from the tail while a reader holds it keeps its bytes until the reader releases it.
            Assert.True(log.TryRead(18, out var held));
            Assert.Equal(4, log.TailReads);
            for (int i = 0; i < 4; i++)
                await log.AppendAsync(payloads[i], 2);
            for (int i = 0; i < 8; i++)
                System.Buffers.ArrayPool<byte>.Shared.Rent(1000).AsSpan().Fill((byte)'!');
            Assert.Equal(payloads[9], held.Payload.ToArray());
            held.Release();
            Assert.True(log.TryRead(18, out var fromDisk));
            Assert.Equal(payloads[9], fromDisk.Payload.ToArray());
            fromDisk.Release();
            Assert.Equal(8, log.SegmentReads);
        }

        // After a restart the tail is empty and everything comes from the segments, unchanged.
        await using var reopened = IngestLog.Open(_dir, options);
        Assert.Equal(28, reopened.EndOffset);
        Assert.Equal(string.Concat(payloads.Concat(payloads.Take(4)).Select(p => Encoding.UTF8.GetString(p) + "|")), ReadAll(reopened, 0, out _));
        Assert.Equal(0, reopened.TailReads);
    }

    [Fact]
    public async Task With_the_tail_off_every_read_comes_from_the_segments()
    {
        await using var log = IngestLog.Open(_dir, new IngestLogOptions { TailBytes = 0 });
        for (int i = 0; i < 5; i++)
            await log.AppendAsync(Payload(i), 1);
        Assert.Equal(string.Concat(Enumerable.Range(0, 5).Select(i => Encoding.UTF8.GetString(Payload(i)) + "|")), ReadAll(log, 0, out _));
        Assert.Equal(0, log.TailReads);
        Assert.Equal(5, log.SegmentReads);
    }

    [Fact]
    public async Task A_payload_handed_over_in_a_pooled_buffer_becomes_the_tails_copy_as_is_and_is_released_when_not_kept()
    {
        static LogBuffer Serialized(byte[] payload)
        {
            using var stream = new LogBufferStream();
            stream.Write(payload);
            return stream.Detach();
        }
        var options = new IngestLogOptions { SegmentBytes = 4096, TailBytes = 1500 };
        await using var log = IngestLog.Open(_dir, options);
        var small = Enumerable.Repeat((byte)'s', 1000).ToArray();
        var handed = Serialized(small);
        Assert.Equal(0, await log.AppendAsync(handed, 2));
        Assert.True(log.TryRead(0, out var fromTail));
        Assert.Equal(1, log.TailReads);
        // The same array the caller handed over: no copy was made for the tail.
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(fromTail.Payload, out var tailArray));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(handed.Memory, out var handedArray));
        Assert.Same(handedArray.Array, tailArray.Array);
        Assert.Equal(small, fromTail.Payload.ToArray());
        fromTail.Release();

        // Larger than the tail: written, read back from the segment, and the log released the caller's hold.
        var large = Enumerable.Repeat((byte)'L', 2000).ToArray();
        var notKept = Serialized(large);
        Assert.Equal(2, await log.AppendAsync(notKept, 1));
        Assert.Throws<InvalidOperationException>(notKept.Release);
        Assert.True(log.TryRead(2, out var fromDisk));
        Assert.Equal(large, fromDisk.Payload.ToArray());
        fromDisk.Release();
        Assert.Equal(1, log.SegmentReads);
    }

    private int OpenFilesOfThisLog() =>
        Directory.GetFiles("/proc/self/fd").Count(fd => { try { return File.ResolveLinkTarget(fd, false)?.FullName.StartsWith(_dir, StringComparison.Ordinal) == true; } catch (IOException) { return false; } });

    [Fact]
    public async Task An_idle_log_holds_no_file_open_and_drops_its_tail_then_reads_from_disk_and_appends_again()
    {
        await using var log = IngestLog.Open(_dir, new IngestLogOptions { SegmentBytes = 100 });
        Assert.Equal(0, OpenFilesOfThisLog()); // opened and indexed, nothing held
        for (int i = 0; i < 6; i++)
            await log.AppendAsync(Payload(i), 1);
        Assert.True(log.SegmentCount > 1);
        Assert.Equal(1, OpenFilesOfThisLog()); // the active segment, for the next append

        Assert.False(log.TrimIdle(TimeSpan.FromHours(1)), "not idle yet");
        Assert.True(log.TrimIdle(TimeSpan.Zero));
        Assert.Equal(0, OpenFilesOfThisLog());
        long tailReads = log.TailReads;
        Assert.Equal(string.Concat(Enumerable.Range(0, 6).Select(i => Encoding.UTF8.GetString(Payload(i)) + "|")), ReadAll(log, 0, out _));
        Assert.Equal(tailReads, log.TailReads); // the tail went: every read came from the files
        Assert.Equal(0, OpenFilesOfThisLog());

        Assert.Equal(6, await log.AppendAsync(Payload(6), 1));
        Assert.Equal(string.Concat(Enumerable.Range(0, 7).Select(i => Encoding.UTF8.GetString(Payload(i)) + "|")), ReadAll(log, 0, out long end));
        Assert.Equal(7, end);
    }

    [Fact]
    public async Task The_segment_holding_the_last_batch_stays_while_the_next_segment_has_none_yet()
    {
        // Every append rolls to a new segment, and a reader committed at the end releases what lies before it all along:
        // between a roll and the flush of its first batch, the last batch (a Kafka source's resume positions) is the
        // previous segment's.
        await using var log = IngestLog.Open(_dir, new IngestLogOptions { SegmentBytes = 64 });
        long lost = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                log.ReleaseBefore(log.EndOffset);
                long start = log.StartOffset, end = log.EndOffset;
                if (end > 0 && start >= end)
                    lost++;
            }
        });
        for (int i = 0; i < 100; i++)
            await log.AppendAsync(Payload(i), 1);
        stop.Cancel();
        await reader;

        Assert.Equal(0, lost);
        Assert.True(log.TryRead(log.EndOffset - 1, out var last));
        Assert.Equal(Encoding.UTF8.GetString(Payload(99)), Encoding.UTF8.GetString(last.Payload.Span));
        last.Release();
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
