namespace DataPlane.TestServices.Readers;

/// <summary>
/// A folder of Node scripts whose npm packages are pinned in its package.json (and package-lock.json), installed there on
/// first use: the way the tests run the JavaScript readers (icebird, parquet-readers).
/// </summary>
public sealed class NodeFolder(string name, string installedPackage)
{
    private readonly SemaphoreSlim _installLock = new(1, 1);

    public string Path { get; } = System.IO.Path.Combine(RepoPaths.Root, "tests", "TestServices", "Readers", name);

    /// <summary>Runs <c>node ARGS</c> in the folder (installing its packages first); a non-zero exit throws with stderr.</summary>
    public async Task<string> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        await EnsureInstalledAsync();
        var (exit, stdout, stderr) = await RunAsync("node", environment, args);
        if (exit != 0)
            throw new InvalidOperationException($"node {string.Join(' ', args)} in {Path} failed (exit {exit}): {stderr}");
        return stdout;
    }

    private async Task EnsureInstalledAsync()
    {
        await _installLock.WaitAsync();
        try
        {
            if (Directory.Exists(System.IO.Path.Combine(Path, "node_modules", installedPackage)))
                return;
            var (exit, stdout, stderr) = await RunAsync("npm", null, "install", "--no-audit", "--no-fund");
            if (exit != 0)
                throw new InvalidOperationException($"npm install in {Path} failed (exit {exit}): {stdout} {stderr}");
        }
        finally
        {
            _installLock.Release();
        }
    }

    private Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        ToolProcess.RunAsync(file, args, TimeSpan.FromMinutes(5), Path, environment);
}
