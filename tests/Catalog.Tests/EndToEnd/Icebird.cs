using System.Diagnostics;
using System.Text.Json;
using DataPlane.TestServices;

namespace DataPlane.Catalog.Tests.EndToEnd;

/// <summary>Runs the npm package icebird (pinned in icebird/package.json) against a table URL and returns its rows.</summary>
internal static class Icebird
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private static string Folder => Path.Combine(RepoPaths.Root, "tests", "Catalog.Tests", "EndToEnd", "icebird");

    public static async Task<List<JsonElement>> ReadAsync(Uri tableUrl)
    {
        await EnsureInstalledAsync();
        var (exit, stdout, stderr) = await RunAsync("node", Folder, "read-table.mjs", tableUrl.ToString().TrimEnd('/'));
        if (exit != 0)
            throw new InvalidOperationException($"icebird failed (exit {exit}): {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(Folder, "node_modules", "icebird")))
                return;
            var (exit, stdout, stderr) = await RunAsync("npm", Folder, "install", "--no-audit", "--no-fund");
            if (exit != 0)
                throw new InvalidOperationException($"npm install in {Folder} failed (exit {exit}): {stdout} {stderr}");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
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
