using System.Globalization;
using System.Text;
using DataPlane.Database.Log;
using Xunit;

namespace DataPlane.Database.Tests;

/// <summary>The commit log on its segmented log: a folder written by earlier builds replays, torn tails are zeroed.</summary>
public sealed class CommitLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("commit-log-").FullName;

    private static LogEntry Entry(long position) => new(position, 1_000_000 + position, Encoding.UTF8.GetBytes($"txn-{position}"));

    private static string Texts(IEnumerable<LogEntry> entries) => string.Join(",", entries.Select(e => $"{e.Position}@{e.CommittedAtMicros}:{Encoding.UTF8.GetString(e.Payload)}"));

    [Fact]
    public void A_log_folder_as_earlier_builds_wrote_it_replays_its_whole_records_zeroes_a_torn_one_and_appends_after_them()
    {
        // As the commit log always wrote it: a segment named by its first position, preallocated with zeros, holding
        // LogRecordFormat records (whose bytes LogRecordFormatTests pins), here with a record torn by a crash after three.
        const int segmentBytes = 4096;
        var path = Path.Combine(_dir, 1L.ToString("D20", CultureInfo.InvariantCulture) + ".log");
        var file = new MemoryStream();
        for (long p = 1; p <= 3; p++)
            LogRecordFormat.Write(file, Entry(p));
        long whole = file.Length;
        var torn = new MemoryStream();
        LogRecordFormat.Write(torn, Entry(4));
        file.Write(torn.ToArray().AsSpan(0, 15));
        file.SetLength(segmentBytes);
        File.WriteAllBytes(path, file.ToArray());

        using (var log = new CommitLog(_dir, floorPosition: 0, syncEachAppend: true, segmentBytes))
        {
            Assert.Equal((0L, 3L), (log.FloorPosition, log.LastPosition));
            Assert.Equal(Texts([Entry(1), Entry(2), Entry(3)]), Texts(log.ReadAfter(0, 100, long.MaxValue)));
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(segmentBytes, bytes.Length);
            Assert.DoesNotContain(bytes.AsSpan((int)whole).ToArray(), b => b != 0);

            log.Append(Entry(4));
            Assert.Equal(4, log.LastPosition);
        }
        using var reopened = new CommitLog(_dir, floorPosition: 0, syncEachAppend: true, segmentBytes);
        Assert.Equal(Texts([Entry(1), Entry(2), Entry(3), Entry(4)]), Texts(reopened.ReadAfter(0, 100, long.MaxValue)));
        Assert.Equal(Texts([Entry(3)]), Texts(reopened.ReadAfter(2, 1, long.MaxValue)));
    }

    [Fact]
    public void Truncation_after_a_roll_deletes_the_segments_through_the_position_and_a_reopened_log_starts_after_it()
    {
        using (var log = new CommitLog(_dir, floorPosition: 100, syncEachAppend: true, segmentBytes: 256))
        {
            for (long p = 101; p <= 130; p++)
                log.Append(Entry(p));
            Assert.True(Directory.GetFiles(_dir).Length > 2, "small segments roll");
            Assert.Equal(Texts([Entry(101), Entry(102)]), Texts(log.ReadAfter(100, 2, long.MaxValue)));

            log.RollIfNotEmpty();
            log.TruncateThrough(130);
            Assert.Equal(130, log.FloorPosition);
            Assert.Single(Directory.GetFiles(_dir));
            Assert.Throws<LogTruncatedException>(() => log.ReadAfter(120, 10, long.MaxValue));
        }
        using var reopened = new CommitLog(_dir, floorPosition: 0, syncEachAppend: true, segmentBytes: 256);
        Assert.Equal((130L, 130L), (reopened.FloorPosition, reopened.LastPosition));
        reopened.Append(Entry(131));
        Assert.Equal(Texts([Entry(131)]), Texts(reopened.ReadAfter(130, 10, long.MaxValue)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
