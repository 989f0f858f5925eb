using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DataPlane.TestServices;

/// <summary>
/// The real <c>dataplane</c> executable as a child process: a server the tests talk to over HTTP, or a command they wait
/// for. Tests kill it with SIGKILL to play a crash, or SIGINT to play Ctrl-C.
/// </summary>
public sealed class DataPlaneProcess : IAsyncDisposable, IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DataPlaneProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine("ERR " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The port the server listens on; 0 for a command that is not a server.</summary>
    public int Port { get; private set; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote so far, stderr lines prefixed with <c>ERR</c>: the first thing to read when a test fails.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>
    /// <c>dataplane.dll</c> as built for the running tests: next to the test assembly when the test project references
    /// src/DataPlane, otherwise in src/DataPlane's output for the same configuration (Debug or Release).
    /// </summary>
    public static string Executable
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "dataplane.dll");
            if (File.Exists(beside)) return beside;
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            var built = Path.Combine(RepoPaths.Root, "src", "DataPlane", "bin", configuration, "net10.0", "dataplane.dll");
            return File.Exists(built) ? built : throw new FileNotFoundException($"Build src/DataPlane first: {built} is missing.");
        }
    }

    /// <summary>Starts <c>dataplane ARGS...</c> without waiting for anything.</summary>
    public static DataPlaneProcess Start(IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        InterruptSignal.RestoreIfIgnored();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        info.ArgumentList.Add(Executable);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return new DataPlaneProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet"));
    }

    /// <summary>Starts <c>dataplane ARGS...</c> (a server: <c>serve ...</c>) and waits until it accepts connections on <paramref name="port"/>.</summary>
    public static async Task<DataPlaneProcess> StartServerAsync(string workingDirectory, int port, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var process = Start(args, workingDirectory, environment);
        process.Port = port;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process._process.HasExited)
            {
                await process._process.WaitForExitAsync(); // drains the output readers
                throw new InvalidOperationException($"dataplane exited with {process._process.ExitCode}:\n{process.Output}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        await process.DisposeAsync();
        throw new TimeoutException($"dataplane did not listen on {port} within 90 s:\n{process.Output}");
    }

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits for the process to exit on its own and returns its exit code; kills it and throws after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dataplane did not exit within {timeout}; output:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT, as Ctrl-C does, and waits for the exit code.</summary>
    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString()])) await kill.WaitForExitAsync();
        return await WaitAsync(timeout);
    }

    /// <summary>SIGKILL: no shutdown code runs and nothing is flushed, as a crash or the OOM killer would end it.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
