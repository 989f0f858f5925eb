using System.Text;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

public sealed class PipelineDescribeTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-describe-").FullName;

    [Fact]
    public async Task Pipeline_describe_prints_the_sql_as_written()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await PostAsync(http, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "value", "type": "long"}]}}""");
        await PostAsync(http, "api/v1/sinks", """{"name": "small_values", "type": "iceberg", "namespace": "default", "table": "small_values"}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "small", "sql": "INSERT INTO small_values SELECT * FROM events WHERE value < 10 AND value > 2"}""");

        await using var cli = DataPlaneProcess.Start(["pipeline", "describe", "small", "--server", server.BaseAddress.ToString()]);
        int exitCode = await cli.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, cli.Output);
        Assert.Contains("WHERE value < 10 AND value > 2", cli.Output);
        Assert.DoesNotContain("\\u003C", cli.Output);
    }

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
