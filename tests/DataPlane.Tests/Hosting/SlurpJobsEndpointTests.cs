using System.Net;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary><c>GET /api/v1/slurp/jobs</c>: a job that <c>dataplane slurp</c> ran shows with its counts and bytes from its
/// journal, and a job name can only name a journal in the journal folder.</summary>
public sealed class SlurpJobsEndpointTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-slurp-jobs-").FullName;

    [Fact]
    public async Task A_finished_job_is_listed_with_its_objects_and_bytes_and_unknown_names_get_404()
    {
        // The journal folder is ~/.dataplane/slurp: a HOME of the test's own keeps other jobs out.
        var home = Directory.CreateDirectory(Path.Combine(_workDir, "home")).FullName;
        var environment = new Dictionary<string, string> { ["HOME"] = home };
        var source = Path.Combine(_workDir, "source");
        Directory.CreateDirectory(Path.Combine(source, "a"));
        File.WriteAllText(Path.Combine(source, "a", "one.txt"), "one");
        File.WriteAllText(Path.Combine(source, "two.txt"), "second");
        await using (var slurp = DataPlaneProcess.Start(["slurp", "--from", source, "--to", Path.Combine(_workDir, "copy"), "--job", "backup"], _workDir, environment))
            Assert.True(await slurp.WaitAsync(TimeSpan.FromSeconds(120)) == 0, slurp.Output);

        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"], environment);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var list = JsonDocument.Parse(await http.GetStringAsync("api/v1/slurp/jobs"));
        Assert.Equal(Path.Combine(home, ".dataplane", "slurp"), list.RootElement.GetProperty("journal_directory").GetString());
        var job = list.RootElement.GetProperty("jobs").EnumerateArray().Single();
        Assert.Equal("backup", job.GetProperty("job_id").GetString());
        Assert.Equal("finished", job.GetProperty("state").GetString());
        Assert.Equal(2, job.GetProperty("objects").GetProperty("copied").GetInt64());
        Assert.Equal(9, job.GetProperty("bytes_copied").GetInt64());

        using var detail = JsonDocument.Parse(await http.GetStringAsync("api/v1/slurp/jobs/backup"));
        Assert.Equal(0, detail.RootElement.GetProperty("failures_total").GetInt32());
        Assert.Equal(source, detail.RootElement.GetProperty("source").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/slurp/jobs/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/slurp/jobs/..%2F..%2Fetc")).StatusCode);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
