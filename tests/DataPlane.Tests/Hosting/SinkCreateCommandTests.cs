using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

public sealed class SinkCreateCommandTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-sink-create-").FullName;

    [Fact]
    public async Task Sink_create_makes_an_ndjson_file_sink_with_the_format_flag()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"]);

        await using var cli = DataPlaneProcess.Start(["sink", "create", "raw_json", "--type", "files", "--format", "ndjson", "--path", "raw/json", "--server", server.BaseAddress.ToString()]);
        int exitCode = await cli.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, cli.Output);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var sink = await http.GetStringAsync("api/v1/sinks/raw_json");
        Assert.Contains("\"format\":\"ndjson\"", sink);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
