using DataPlane.Iceberg.Maintenance;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>Runs <paramref name="action"/> once, inline, when a rewrite reports its first progress: after planning, before its commit.</summary>
internal sealed class Meanwhile(Func<Task> action) : IProgress<MaintenanceProgress>
{
    private int _done;

    public void Report(MaintenanceProgress value)
    {
        if (value.Phase == "rewriting" && Interlocked.Exchange(ref _done, 1) == 0)
            action().GetAwaiter().GetResult();
    }
}
