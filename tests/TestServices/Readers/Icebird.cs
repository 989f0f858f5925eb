using System.Diagnostics;
using System.Text.Json;

namespace DataPlane.TestServices.Readers;

/// <summary>Runs the npm package icebird (pinned in icebird/package.json), an independent Iceberg reader, and returns its rows.</summary>
public static class Icebird
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private static string Folder => Path.Combine(RepoPaths.Root, "tests", "TestServices", "Readers", "icebird");

    /// <summary>Reads the table at an http(s) URL (its <c>version-hint.text</c> names the metadata file).</summary>
    public static Task<List<JsonElement>> ReadAsync(Uri tableUrl) => ReadAsync(tableUrl.ToString(), metadataFileName: null, s3Endpoint: null);

    /// <summary>
    /// Reads the table at <paramref name="tableLocation"/> (an <c>s3://</c> location when <paramref name="s3Endpoint"/> is
    /// given: every <c>s3://</c> file is then read from that path-style endpoint), starting from
    /// <c>metadata/<paramref name="metadataFileName"/></c>, or from <c>version-hint.text</c> when it is null.
    /// </summary>
    public static async Task<List<JsonElement>> ReadAsync(string tableLocation, string? metadataFileName, Uri? s3Endpoint)
    {
        await EnsureInstalledAsync();
        string[] args = metadataFileName is null ? ["read-table.mjs", tableLocation.TrimEnd('/')] : ["read-table.mjs", tableLocation.TrimEnd('/'), metadataFileName];
        var environment = s3Endpoint is null ? null : new Dictionary<string, string> { ["S3_ENDPOINT"] = s3Endpoint.ToString() };
        var (exit, stdout, stderr) = await RunAsync("node", Folder, environment, args);
        if (exit != 0)
            throw new InvalidOperationException($"icebird failed (exit {exit}): {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>
    /// Reads the given snapshots (older ones, branches', tags') of the table at <paramref name="tableLocation"/> in one
    /// run, from <c>metadata/<paramref name="metadataFileName"/></c>: per snapshot id, its rows, or the error icebird
    /// gave for it. With <paramref name="localFolder"/> (a <c>file:///</c> location prefix) and
    /// <paramref name="httpFolder"/> (where <see cref="HttpFileServer"/> serves that folder), every location under the
    /// prefix is fetched over HTTP instead (icebird cannot open file:// URLs).
    /// </summary>
    public static async Task<Dictionary<long, (List<JsonElement>? Rows, string? Error)>> ReadSnapshotsAsync(string tableLocation, string metadataFileName,
        IReadOnlyCollection<long> snapshotIds, Uri? s3Endpoint = null, string? localFolder = null, Uri? httpFolder = null)
    {
        await EnsureInstalledAsync();
        var environment = new Dictionary<string, string>();
        if (s3Endpoint is not null) environment["S3_ENDPOINT"] = s3Endpoint.ToString();
        if (localFolder is not null && httpFolder is not null)
        {
            environment["LOCATION_FROM"] = localFolder;
            environment["LOCATION_TO"] = httpFolder.ToString();
        }
        var ids = string.Join(",", snapshotIds.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var (exit, stdout, stderr) = await RunAsync("node", Folder, environment, "read-table.mjs", tableLocation.TrimEnd('/'), metadataFileName, ids);
        if (exit != 0)
            throw new InvalidOperationException($"icebird failed (exit {exit}): {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        var result = new Dictionary<long, (List<JsonElement>?, string?)>();
        foreach (var snapshot in doc.RootElement.EnumerateObject())
        {
            long id = long.Parse(snapshot.Name, System.Globalization.CultureInfo.InvariantCulture);
            result[id] = snapshot.Value.TryGetProperty("rows", out var rows)
                ? (rows.EnumerateArray().Select(e => e.Clone()).ToList(), null)
                : (null, snapshot.Value.GetProperty("error").GetString());
        }
        return result;
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(Folder, "node_modules", "icebird")))
                return;
            var (exit, stdout, stderr) = await RunAsync("npm", Folder, null, "install", "--no-audit", "--no-fund");
            if (exit != 0)
                throw new InvalidOperationException($"npm install in {Folder} failed (exit {exit}): {stdout} {stderr}");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(
        string file, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
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
