using System.Diagnostics;

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

    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 5 minutes.");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
