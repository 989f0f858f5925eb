using System.Diagnostics;
using DataPlane.TestServices;

namespace DataPlane.Slurper.Tests;

/// <summary>
/// An s3rver whose process a test can kill (SIGKILL, as a crash) and start again on the same port and data, to see a
/// job ride out a server that goes away. The first start goes through scripts/test-services/s3rver.sh (which installs
/// and patches s3rver); restarts run the same command on the port the first one got. Its data folder is known, so a
/// test can also damage a stored object behind the server's back.
/// </summary>
internal sealed class RestartableS3rver : IAsyncDisposable
{
    ServiceScript? script;
    Process? restarted;
    int pid;

    public string Endpoint { get; private set; } = "";
    public string DataDirectory { get; private set; } = "";

    public static async Task<RestartableS3rver> StartAsync()
    {
        var server = new RestartableS3rver();
        server.script = await ServiceScript.StartAsync("s3rver.sh", TimeSpan.FromMinutes(5));
        server.Endpoint = server.script.Values["S3_ENDPOINT"];
        server.DataDirectory = Path.Combine(server.script.StateDirectory, "data");
        server.pid = int.Parse(File.ReadAllText(Path.Combine(server.script.StateDirectory, "pid")).Trim());
        return server;
    }

    public void Kill()
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill();
            p.WaitForExit();
        }
        catch (ArgumentException) { /* already gone */ }
    }

    public async Task RestartAsync()
    {
        var port = new Uri(Endpoint).Port;
        var info = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "--openssl-legacy-provider", Path.Combine(RepoPaths.Scripts, "s3rver", "run.js"), Path.Combine(RepoPaths.Tools, "s3rver", "node_modules", "s3rver"),
                     "-d", DataDirectory, "-a", "127.0.0.1", "-p", port.ToString(), "--silent",
                 })
            info.ArgumentList.Add(a);
        restarted = Process.Start(info)!;
        restarted.OutputDataReceived += (_, _) => { };
        restarted.ErrorDataReceived += (_, _) => { };
        restarted.BeginOutputReadLine();
        restarted.BeginErrorReadLine();
        pid = restarted.Id;
        using var http = new HttpClient();
        for (var i = 0; i < 150; i++)
        {
            try
            {
                await http.GetAsync(Endpoint);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }
        throw new InvalidOperationException($"s3rver did not come back on {Endpoint}.");
    }

    /// <summary>The file s3rver keeps an object's bytes in.</summary>
    public string ObjectFile(string bucket, string key)
    {
        var parts = key.Split('/');
        return Path.Combine([DataDirectory, bucket, .. parts[..^1], parts[^1] + "._S3rver_object"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (restarted is { HasExited: false })
        {
            restarted.Kill();
            await restarted.WaitForExitAsync();
        }
        restarted?.Dispose();
        if (script is not null) await script.DisposeAsync();
    }
}
