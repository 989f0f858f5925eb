using System.Diagnostics;

namespace DataPlane.TestServices;

/// <summary>
/// Runs an outside program (node, npm, python, the Avro tools, a service script) to its end and returns what it
/// printed. Past the timeout its whole process tree is killed and a <see cref="TimeoutException"/> says so, with what it
/// wrote to stderr. The <c>dataplane</c> executable runs through <see cref="DataPlaneProcess"/>.
/// </summary>
public static class ToolProcess
{
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
