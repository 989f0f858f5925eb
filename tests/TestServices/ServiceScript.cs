namespace DataPlane.TestServices;

/// <summary>
/// One server started by a script in scripts/test-services (<c>X.sh start STATE_DIR</c> prints <c>KEY=VALUE</c> lines
/// once ready; <c>X.sh stop STATE_DIR</c> stops it by PID). The state folder is private to this instance.
/// </summary>
public sealed class ServiceScript : IAsyncDisposable
{
    private readonly string _script;

    private ServiceScript(string script, string stateDirectory, IReadOnlyDictionary<string, string> values)
    {
        _script = script;
        StateDirectory = stateDirectory;
        Values = values;
    }

    public string StateDirectory { get; }
    public IReadOnlyDictionary<string, string> Values { get; }

    public static async Task<ServiceScript> StartAsync(string scriptName, TimeSpan timeout)
    {
        var script = Path.Combine(RepoPaths.Scripts, scriptName);
        var state = Path.Combine(Path.GetTempPath(), "dataplane-test-services", $"{Path.GetFileNameWithoutExtension(scriptName)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(state);
        var (exitCode, stdout, stderr) = await RunAsync(script, "start", state, timeout);
        if (exitCode != 0)
        {
            await RunAsync(script, "stop", state, TimeSpan.FromSeconds(30));
            throw new InvalidOperationException($"{scriptName} start failed with exit code {exitCode}:\n{stderr}\n{stdout}");
        }
        var values = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);
        return new ServiceScript(script, state, values);
    }

    /// <summary>Runs another verb of the script on this instance's state (<c>kafka.sh stop-broker</c>); throws when it fails.</summary>
    public async Task RunAsync(string verb, TimeSpan timeout)
    {
        var (exitCode, stdout, stderr) = await RunAsync(_script, verb, StateDirectory, timeout);
        if (exitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(_script)} {verb} failed with exit code {exitCode}:\n{stderr}\n{stdout}");
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(_script, "stop", StateDirectory, TimeSpan.FromSeconds(60));
        try { Directory.Delete(StateDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, string verb, string state, TimeSpan timeout)
    {
        try
        {
            return await ToolProcess.RunAsync("bash", [script, verb, state], timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{Path.GetFileName(script)} {verb} did not finish within {timeout.TotalSeconds:0} s; its output is in {state}.", e);
        }
    }
}
