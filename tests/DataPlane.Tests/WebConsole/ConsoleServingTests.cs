using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using DataPlane.TestServices;
using DataPlane.WebConsole;
using Xunit;

namespace DataPlane.Tests.WebConsole;

/// <summary>
/// <c>dataplane serve</c> serves the console from the binary: the page at <c>/</c> with a policy that lets it load
/// nothing but this server, every file it names, revalidation by ETag, and no more than 2 MB added to the binary.
/// </summary>
public sealed partial class ConsoleServingTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-console-serve-").FullName;

    [Fact]
    public async Task The_page_and_every_file_it_loads_come_from_the_binary_and_nothing_from_elsewhere()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("script-src 'self'", csp);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);

        // Every file the page and its modules name is served, with the right type; nothing points off the server.
        var pending = new Queue<string>(Referenced(html, "/"));
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var path))
        {
            if (!seen.Add(path)) continue;
            using var response = await http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
            var text = await response.Content.ReadAsStringAsync();
            if (path.EndsWith(".js", StringComparison.Ordinal))
            {
                Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
                if (!path.Contains("/vendor/", StringComparison.Ordinal))
                {
                    Assert.DoesNotMatch(@"(import|from)\s*['""]https?:", text);
                    foreach (var next in Referenced(text, path)) pending.Enqueue(next);
                }
            }
        }
        Assert.Contains("/console/app.js", seen);
        Assert.Contains("/console/pages/tables.js", seen);
        Assert.Contains("/console/vendor/uplot/uPlot.iife.min.js", seen);

        // Revalidation: the same ETag answers 304 without a body.
        using var first = await http.GetAsync("/console/app.js");
        var etag = first.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/console/app.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var revalidated = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/console/nope.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/console/../dataplane.json")).StatusCode);
    }

    [Fact]
    public void The_console_adds_less_than_2_MB_and_keeps_the_chart_librarys_licence()
    {
        var assets = ConsoleAssets.Load();
        Assert.InRange(assets.TotalBytes, 10_000, 2 * 1024 * 1024);
        Assert.NotNull(assets.Find("vendor/uplot/LICENSE"));
        Assert.NotNull(assets.Find("index.html"));
    }

    /// <summary>Paths the text names: src/href attributes and module imports, resolved against <paramref name="from"/>.</summary>
    private static IEnumerable<string> Referenced(string text, string from)
    {
        foreach (Match m in ReferenceRegex().Matches(text))
        {
            var target = m.Groups["path"].Value;
            if (target.StartsWith('#')) continue;
            yield return new Uri(new Uri("http://host" + from), target).AbsolutePath;
        }
    }

    [GeneratedRegex("""(?:src|href)="(?<path>/console/[^"]+)"|(?:import|from)\s*'(?<path>\.{1,2}/[^']+\.js)'""")]
    private static partial Regex ReferenceRegex();

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
