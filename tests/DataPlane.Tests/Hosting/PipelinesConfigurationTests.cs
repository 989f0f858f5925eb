using System.Net;
using System.Text;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>The <c>Pipelines</c> section of the layered configuration reaches the ingestion limits of <c>dataplane serve</c>.</summary>
public sealed class PipelinesConfigurationTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-serve-pipelines-").FullName;

    [Fact]
    public async Task The_request_body_limit_comes_from_dataplane_json_and_the_environment_overrides_it()
    {
        File.WriteAllText(Path.Combine(_workDir, "dataplane.json"), """{ "Data": "state", "Pipelines": { "MaxRequestBytes": 1000 } }""");
        var body = Records(2000);

        var port = DataPlaneProcess.FreePort();
        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString()]))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var created = await http.PostAsync("api/v1/streams", new StringContent("""{"name": "events"}""", Encoding.UTF8, "application/json"));
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());

            var tooLarge = await http.PostAsync("streams/events", new ByteArrayContent(body));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
            Assert.Contains("1000", await tooLarge.Content.ReadAsStringAsync());
            var small = await http.PostAsync("streams/events", new ByteArrayContent(Records(500)));
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        port = DataPlaneProcess.FreePort();
        var environment = new Dictionary<string, string> { ["DATAPLANE_PIPELINES__MAXREQUESTBYTES"] = "4000" };
        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString()], environment))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var accepted = await http.PostAsync("streams/events", new ByteArrayContent(body));
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        }
    }

    /// <summary>NDJSON records of about <paramref name="bytes"/> bytes in all.</summary>
    private static byte[] Records(int bytes)
    {
        var text = new StringBuilder();
        for (int i = 0; text.Length + 40 < bytes; i++)
            text.Append("{\"id\":").Append(i).Append(",\"note\":\"padding padding\"}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
