using DataPlane.Pipelines.Runtime;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

public sealed class UncommittedFileJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("journal-").FullName;

    private string JournalPath => Path.Combine(_dir, "p.files");

    [Fact]
    public async Task What_was_recorded_is_read_back_by_the_next_process_and_a_reset_forgets_it()
    {
        var journal = new UncommittedFileJournal(JournalPath);
        AssertRead(journal, null);
        journal.Reset("table-uuid-1");
        await journal.RecordAsync("default/t/data/a-00000.parquet", default);
        await journal.RecordAsync("default/t/data/day=2026-01-01/b-00000.parquet", default);

        var next = new UncommittedFileJournal(JournalPath); // as the next process would
        AssertRead(next, "table-uuid-1", "default/t/data/a-00000.parquet", "default/t/data/day=2026-01-01/b-00000.parquet");
        next.Reset("table-uuid-2");
        AssertRead(next, "table-uuid-2");
        await next.RecordAsync("default/t/data/c-00000.parquet", default);
        AssertRead(next, "table-uuid-2", "default/t/data/c-00000.parquet");
        next.Delete();
        Assert.False(File.Exists(JournalPath));
    }

    [Fact]
    public async Task In_flight_files_are_every_key_every_pipelines_journal_names()
    {
        var folder = Path.Combine(_dir, "pipelines");
        Directory.CreateDirectory(folder);
        var p1 = new UncommittedFileJournal(Path.Combine(folder, "p1.files"));
        var p2 = new UncommittedFileJournal(Path.Combine(folder, "p2.files"));
        p1.Reset("uuid-1");
        p2.Reset("uuid-2");
        await p1.RecordAsync("default/t/data/a.parquet", default);
        await p2.RecordAsync("default/u/data/b.parquet", default);
        File.WriteAllText(Path.Combine(folder, "p3.json"), "{}"); // a definition, not a journal

        Assert.Equal(["default/t/data/a.parquet", "default/u/data/b.parquet"], InFlightFiles.Read(_dir).Order());
        p1.Reset("uuid-1"); // committed: its file is the table's now
        Assert.Equal(["default/u/data/b.parquet"], InFlightFiles.Read(_dir));
        Assert.Empty(InFlightFiles.Read(Path.Combine(_dir, "nowhere")));
    }

    [Fact]
    public void A_line_cut_by_a_crash_before_its_newline_is_left_out()
    {
        // The fsync of that line had not returned, so its file was never created.
        File.WriteAllText(JournalPath, "table-uuid\ndefault/t/data/a-00000.parquet\ndefault/t/data/b-000");
        var journal = new UncommittedFileJournal(JournalPath);
        AssertRead(journal, "table-uuid", "default/t/data/a-00000.parquet");
        File.WriteAllText(JournalPath, "table-uu");
        AssertRead(journal, null);
    }

    [Fact]
    public async Task Nothing_is_recorded_before_a_reset_names_the_target()
    {
        var journal = new UncommittedFileJournal(JournalPath);
        await Assert.ThrowsAsync<InvalidOperationException>(() => journal.RecordAsync("x.parquet", default).AsTask());
    }

    private static void AssertRead(UncommittedFileJournal journal, string? target, params string[] keys)
    {
        var read = journal.Read();
        Assert.Equal(target, read.Target);
        Assert.Equal(keys, read.Keys);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
