namespace DataPlane.Database.Execution;

/// <summary>
/// Checkpoints a WAL database from its own connection and its own thread, so that neither the writer
/// (the primary's commit path, a replica's apply loop) nor the thread pool ever waits on a checkpoint's fsyncs.
/// </summary>
internal sealed class WalCheckpointer : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private readonly string _path;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;

    public WalCheckpointer(string path)
    {
        _path = path;
        _thread = new Thread(Run) { IsBackground = true, Name = "wal-checkpoint " + Path.GetFileName(path) };
        _thread.Start();
    }

    private void Run()
    {
        // Nothing here may escape: an exception on this thread would end the process.
        SqliteLink? link = null;
        while (!_stop.Wait(Interval))
        {
            try
            {
                link ??= new SqliteLink(_path, readOnly: false, synchronous: "NORMAL");
                link.Exec("PRAGMA wal_checkpoint(PASSIVE)");
            }
            catch (Exception)
            {
                // Busy, or the file is being replaced: the next round tries again.
                link?.Dispose();
                link = null;
            }
        }
        link?.Dispose();
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }
}
