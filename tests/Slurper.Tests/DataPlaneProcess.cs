using System.Diagnostics;
using System.Text;
using DataPlane.TestServices;

namespace DataPlane.Slurper.Tests;

/// <summary>The real <c>dataplane</c> executable run as a child process, so tests can kill it like a crash would.</summary>
internal sealed class DataPlaneProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();

    DataPlaneProcess(Process process) => this.process = process;

    public static string Executable
    {
        get
        {
            // Same configuration as this test assembly (bin/Debug or bin/Release).
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            var dll = Path.Combine(RepoPaths.Root, "src", "DataPlane", "bin", configuration, "net10.0", "dataplane.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build src/DataPlane first: {dll} is missing.");
        }
    }

    public static DataPlaneProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Executable);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var p = new DataPlaneProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet"));
        p.process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (p.output) p.output.AppendLine(e.Data); };
        p.process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (p.output) p.output.AppendLine("ERR " + e.Data); };
        p.process.BeginOutputReadLine();
        p.process.BeginErrorReadLine();
        return p;
    }

    public string Output { get { lock (output) return output.ToString(); } }

    public int Id => process.Id;

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dataplane did not exit within {timeout}; output:\n{Output}");
        }
        process.WaitForExit(); // drains the output readers
        return process.ExitCode;
    }

    /// <summary>SIGKILL: no cleanup, no flushing, as a crash or the OOM killer would end it.</summary>
    public void Kill() => process.Kill(entireProcessTree: false);

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
