using System.Globalization;
using DataPlane.Database.Execution;
using DataPlane.Database.Log;
using SQLitePCL;

namespace DataPlane.Database.Primary;

/// <summary>Snapshots of the primary taken with SQLite's online backup API; the newest two are kept.</summary>
internal sealed class SnapshotStore
{
    private const string Prefix = "snapshot-";
    private const string Extension = ".sqlite";
    private static readonly string[] TempSuffixes = [".tmp", ".tmp-wal", ".tmp-shm", ".tmp-journal"];
    private readonly string _directory;
    private SnapshotInfo? _latest;

    public SnapshotStore(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        // Safe: Create alone makes *.tmp files here (a new GUID name each), and one left at start-up is a snapshot cut short
        // by a crash that nothing names. SQLite kept its WAL (a copy of the database's pages) and shared memory beside it.
        foreach (var path in Directory.GetFiles(directory))
        {
            if (TempSuffixes.Any(suffix => path.EndsWith(suffix, StringComparison.Ordinal))) File.Delete(path);
        }
        _latest = Directory.GetFiles(directory, Prefix + "*" + Extension)
            .Select(p => new SnapshotInfo(p, long.Parse(Path.GetFileNameWithoutExtension(p)[Prefix.Length..], CultureInfo.InvariantCulture)))
            .MaxBy(s => s.Position);
    }

    public SnapshotInfo? Latest => Volatile.Read(ref _latest);

    public SnapshotInfo Create(string databasePath)
    {
        string temp = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".tmp");
        long position;
        using (var source = new SqliteLink(databasePath, readOnly: true, synchronous: "NORMAL"))
        using (var destination = new SqliteLink(temp, readOnly: false, synchronous: "FULL"))
        {
            // One step copies every page under one read transaction: a consistent cut at one position.
            var backup = raw.sqlite3_backup_init(destination.Handle, "main", source.Handle, "main");
            int rc = raw.sqlite3_backup_step(backup, -1);
            raw.sqlite3_backup_finish(backup);
            if (rc != 101) throw new InvalidOperationException($"Backup of {databasePath} failed with SQLite result code {rc}.");
            position = LogApplier.ReadPosition(destination);
            destination.Exec("PRAGMA journal_mode=DELETE");
        }
        string final = Path.Combine(_directory, Prefix + position.ToString("D20", CultureInfo.InvariantCulture) + Extension);
        File.Move(temp, final, overwrite: true);
        var snapshot = new SnapshotInfo(final, position);
        Volatile.Write(ref _latest, snapshot);
        // Safe: snapshot-<position>.sqlite files are made here alone; the newest two stay (the latest may be on its way to a
        // replica, which opens it before answering and keeps its handle), and the log is truncated only through the latest.
        foreach (var old in Directory.GetFiles(_directory, Prefix + "*" + Extension).Order(StringComparer.Ordinal).SkipLast(2))
        {
            try { File.Delete(old); } catch (IOException) { }
        }
        return snapshot;
    }
}
