using DataPlane.Storage;

namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// Deletes files a maintenance job proved unreferenced, a few at a time (bounded, so an S3 store is not flooded and
/// ingestion keeps its share), in the order given: callers list data files before the manifests naming them, manifests
/// before manifest lists, so a run cut short leaves no file pointing at one already gone.
/// </summary>
internal static class FileDeletion
{
    public static async Task DeleteAsync(IObjectStore store, IReadOnlyList<string> keys, int parallelism, string phase,
        IProgress<MaintenanceProgress>? progress, CancellationToken ct)
    {
        long done = 0;
        progress?.Report(new MaintenanceProgress(phase, 0, keys.Count));
        // In slices of the given order: every file of a slice is gone before the next slice starts.
        foreach (var slice in keys.Chunk(Math.Max(1, parallelism) * 16))
        {
            await Parallel.ForEachAsync(slice, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = ct },
                async (key, token) =>
                {
                    await store.DeleteAsync(key, token);
                    progress?.Report(new MaintenanceProgress(phase, Interlocked.Increment(ref done), keys.Count));
                });
        }
    }
}
