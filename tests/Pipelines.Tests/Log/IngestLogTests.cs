using System.Buffers;
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
        while (log.TryRead(offset, out var batch, out var rented))
        {
            text.Append(Encoding.UTF8.GetString(batch.Payload.Span)).Append('|');
            offset = batch.EndOffset;
            ArrayPool<byte>.Shared.Return(rented!);
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
        Assert.True(reopened.TryRead(4, out var middle, out var rented));
        Assert.Equal(3, middle.FirstOffset);
        ArrayPool<byte>.Shared.Return(rented!);
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
        Assert.Throws<ArgumentOutOfRangeException>(() => log.TryRead(0, out _, out _));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
