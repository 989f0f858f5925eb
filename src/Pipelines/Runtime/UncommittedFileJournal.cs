using System.Text;
using DataPlane.Storage.Durability;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The files a pipeline has started writing into its sink since its last commit: a text file in the pipeline's folder
/// (<c>&lt;dir&gt;/pipelines/&lt;name&gt;.files</c>), a first line naming the target the files belong to (a table's UUID, a
/// folder's path), then one store key a line. Each key is on disk (fsync) before its file is created in the store, so
/// after any crash, kill -9 included, the journal names every file of the pipeline's that may exist without a commit:
/// the only files a sink's clean-up may consider deleting. One open, write and fsync per data file, nothing per record;
/// no descriptor is held between them.
/// </summary>
internal sealed class UncommittedFileJournal(string path)
{
    private readonly object _gate = new();
    private string? _target;
    private bool _recorded;

    public string Path => path;

    /// <summary>
    /// What the journal holds: the target its keys were recorded for (null when nothing was ever recorded) and the keys.
    /// A last line without its newline was cut by a crash before its fsync returned, so its file was never created: it
    /// is left out.
    /// </summary>
    public (string? Target, IReadOnlyList<string> Keys) Read()
    {
        lock (_gate)
        {
            if (!File.Exists(path))
                return (null, []);
            var lines = File.ReadAllText(path, Encoding.UTF8).Split('\n');
            var complete = lines.AsSpan(0, lines.Length - 1); // the part after the last newline is empty or torn
            if (complete.Length == 0)
                return (null, []);
            return (complete[0], complete[1..].ToArray().Where(k => k.Length > 0).ToList());
        }
    }

    /// <summary>Forgets every recorded key and names the target whose files are recorded from now on.</summary>
    public void Reset(string target)
    {
        lock (_gate)
        {
            if (target == _target && !_recorded)
                return; // already just that: a commit without files costs no write
            bool created = !File.Exists(path);
            Write(FileMode.Create, target);
            if (created)
                DirectoryFlush.Flush(System.IO.Path.GetDirectoryName(path)!);
            _target = target;
            _recorded = false;
        }
    }

    /// <summary>Records a key before its file is created (<see cref="Iceberg.DataFiles.DataFileWriterOptions.OnNewFile"/>).</summary>
    public ValueTask RecordAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_target is null)
                throw new InvalidOperationException($"The journal {path} records files only after Reset names their target.");
            Write(FileMode.Append, key);
            _recorded = true;
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Removes the journal file (its pipeline is deleted and nothing recorded is left to check).</summary>
    public void Delete()
    {
        lock (_gate)
        {
            File.Delete(path);
            _target = null;
        }
    }

    private void Write(FileMode mode, string line)
    {
        using var file = new FileStream(path, mode, FileAccess.Write, FileShare.Read);
        file.Write(Encoding.UTF8.GetBytes(line + "\n"));
        file.Flush(flushToDisk: true);
    }
}
