using DataPlane.Slurper.Journal;
using DataPlane.Slurper.Progress;
using Xunit;

namespace DataPlane.Slurper.Tests;

/// <summary>
/// What a source holds that is no object to copy is skipped and reported, and the rest of the job is copied: symbolic
/// links in a source folder are never followed (out of the folder, to nothing, or round a loop), and keys with a '..'
/// segment are skipped rather than aborting the listing or failing attempt after attempt.
/// </summary>
public sealed class SourceSkipTests : IDisposable
{
    private readonly string _dir = TestOptions.TempDir();

    [Fact]
    public async Task Links_in_a_source_folder_are_skipped_and_reported_never_followed_and_the_rest_is_copied()
    {
        string outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "SECRET-FILE");
        Directory.CreateDirectory(Path.Combine(outside, "secrets"));
        File.WriteAllText(Path.Combine(outside, "secrets", "key.pem"), "SECRET-IN-FOLDER");
        string source = Directory.CreateDirectory(Path.Combine(_dir, "source")).FullName;
        File.WriteAllText(Path.Combine(source, "a.txt"), "alpha");
        Directory.CreateDirectory(Path.Combine(source, "sub", "deeper"));
        File.WriteAllText(Path.Combine(source, "sub", "b.txt"), "bravo");
        File.WriteAllText(Path.Combine(source, "sub", "deeper", "c.txt"), "charlie");
        File.CreateSymbolicLink(Path.Combine(source, "to-secret"), Path.Combine(outside, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(source, "relative-secret"), "../outside/secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(source, "sub", "to-secrets"), Path.Combine(outside, "secrets"));
        File.CreateSymbolicLink(Path.Combine(source, "dangling"), Path.Combine(outside, "nothing-here"));
        Directory.CreateSymbolicLink(Path.Combine(source, "sub", "deeper", "loop"), source);
        File.CreateSymbolicLink(Path.Combine(source, "inside"), "a.txt");
        string destination = Path.Combine(_dir, "destination");
        var output = new StringWriter();
        var options = TestOptions.For(_dir) with
        {
            Source = new StoreEndpoint(source, null),
            Destination = new StoreEndpoint(destination, null),
            Output = output,
        };

        var result = await SlurpRunner.RunAsync(options);

        Assert.True(result.Succeeded, output.ToString());
        var copied = Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(destination, f).StartsWith(".dataplane", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(destination, f).Replace('\\', '/'), File.ReadAllText);
        Assert.Equal(new Dictionary<string, string> { ["a.txt"] = "alpha", ["sub/b.txt"] = "bravo", ["sub/deeper/c.txt"] = "charlie" }, copied);
        Assert.Equal(3, result.Status.Count(ObjectState.Copied));
        Assert.Equal(6, result.Status.Count(ObjectState.SkippedLink));
        Assert.Contains("6 symbolic links skipped", output.ToString());
        var report = File.ReadAllLines(result.ReportPath!);
        foreach (var link in new[] { "to-secret", "relative-secret", "sub/to-secrets/", "dangling", "sub/deeper/loop/", "inside" })
            Assert.Contains(report, line => line.StartsWith($"link\t{link}\t0\t0\ta symbolic link to ", StringComparison.Ordinal));
        Assert.Contains(report, line => line.StartsWith("link\tdangling\t", StringComparison.Ordinal) && line.Contains("which does not exist"));
    }

    [Fact]
    public async Task Keys_with_a_dot_dot_segment_are_skipped_and_reported_and_the_rest_is_copied()
    {
        var source = new InMemoryObjectStore("src");
        source.Add("ok/1", [1]);
        source.Add("ok/2", [2]);
        source.Add("a/../b", [3]);   // listed under the common prefix "a/../", which no store lists
        source.Add("x/..", [4]);     // an object whose key no store can read back
        source.Add("z", [5]);
        var destination = new InMemoryObjectStore("dst");
        var output = new StringWriter();

        var result = await SlurpRunner.RunAsync(TestOptions.For(_dir) with { Output = output }, source, destination, CancellationToken.None);

        Assert.True(result.Succeeded, output.ToString());
        Assert.Equal(["ok/1", "ok/2", "z"], destination.Objects.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, result.Status.Count(ObjectState.SkippedInvalidKey));
        Assert.Equal(0, result.Status.Count(ObjectState.Dead));
        Assert.Contains("2 invalid keys skipped", output.ToString());
        var report = File.ReadAllLines(result.ReportPath!);
        Assert.Contains(report, line => line.StartsWith("invalid-key\ta/../\t", StringComparison.Ordinal) && line.Contains("'..'"));
        Assert.Contains(report, line => line.StartsWith("invalid-key\tx/..\t", StringComparison.Ordinal) && line.Contains("'..'"));
        Assert.Equal(3, source.GetRequests); // the skipped keys were never tried
    }

    [Fact]
    public void The_progress_line_counts_what_was_skipped()
    {
        var counters = new SlurpCounters();
        counters.Listed(5, 50);
        counters.Copied(30);
        counters.Skipped(0);
        counters.Skipped(0);

        var line = new ProgressReporter(counters, TextWriter.Null, interactive: false, TimeSpan.FromSeconds(10)).Line();

        Assert.Contains("3/5+ objects", line);
        Assert.Contains(", 2 skipped", line);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
