using System.Net;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

public sealed class ServeCommandTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-serve-").FullName;

    [Fact]
    public async Task Serve_answers_healthz_keeps_data_under_the_data_flag_and_stops_cleanly_on_ctrl_c()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        var response = await http.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Directory.Exists(Path.Combine(_workDir, "state")), "the --data folder is created");
        Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("DataPlane listening on", server.Output);
        Assert.DoesNotContain("not a loopback address", server.Output);
    }

    [Fact]
    public async Task Listening_beyond_loopback_closes_every_api_to_anonymous_clients_and_a_configured_opening_is_warned_about()
    {
        var port = DataPlaneProcess.FreePort();
        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--host", "0.0.0.0", "--port", port.ToString(), "--data", "state"]))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };

            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/v1/streams")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("streams/events", new StringContent("{}"))).StatusCode);
            using var catalog = await http.GetAsync("iceberg/v1/namespaces");
            Assert.Equal(HttpStatusCode.Unauthorized, catalog.StatusCode);
            Assert.Contains("DATAPLANE_CATALOG__TOKENS__0__TOKEN", await catalog.Content.ReadAsStringAsync());
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
            Assert.DoesNotContain("AllowAnonymous is on", server.Output);
        }

        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--host", "0.0.0.0", "--port", port.ToString(), "--data", "state"],
            new Dictionary<string, string> { ["DATAPLANE_CATALOG__ALLOWANONYMOUS"] = "true" }))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("iceberg/v1/namespaces")).StatusCode);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("Catalog:AllowAnonymous is on", server.Output);
            Assert.Contains("DATAPLANE_CATALOG__TOKENS__0__TOKEN", server.Output);
            Assert.DoesNotContain("Pipelines:AllowAnonymous is on", server.Output);
        }
    }

    [Fact]
    public async Task Defaults_come_from_dataplane_json_then_environment_then_flags()
    {
        var filePort = DataPlaneProcess.FreePort();
        var envPort = DataPlaneProcess.FreePort();
        File.WriteAllText(Path.Combine(_workDir, "dataplane.json"), $$"""{ "Port": {{filePort}}, "Data": "from-file" }""");

        // The environment overrides the file's port; the file's data folder still applies.
        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, envPort, ["serve"], new Dictionary<string, string> { ["DATAPLANE_PORT"] = envPort.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, (await new HttpClient().GetAsync(new Uri(server.BaseAddress, "healthz"))).StatusCode);
            Assert.True(Directory.Exists(Path.Combine(_workDir, "from-file")));
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        // A flag overrides both.
        var flagPort = DataPlaneProcess.FreePort();
        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, flagPort, ["serve", "--port", flagPort.ToString()], new Dictionary<string, string> { ["DATAPLANE_PORT"] = envPort.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, (await new HttpClient().GetAsync(new Uri(server.BaseAddress, "healthz"))).StatusCode);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public void A_port_out_of_range_is_refused_with_the_value()
    {
        var error = Assert.Throws<ArgumentException>(() => DataPlane.Hosting.DataPlaneConfiguration.Load(null, new Dictionary<string, string?> { ["Port"] = "70000" }));
        Assert.Contains("70000", error.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
