using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sources;

/// <summary>
/// What librdkafka reports for a source is logged without flooding: a line at once, its repeats as one line with their
/// count at most once a minute. The minute is a test clock's, moved by hand: no test waits for it.
/// </summary>
public sealed class RepeatedLogLinesTests : IDisposable
{
    private const string Refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after {0}ms in state CONNECT)";

    private readonly string _dir = Directory.CreateTempSubdirectory("kafka-log-lines-").FullName;
    private readonly LogLines _logs = new();
    private readonly ManualTime _time = new();

    private RepeatedLogLines Lines() => new(_logs.CreateLogger("kafka"), "clicks", _time);

    private IReadOnlyList<string> Logged => _logs.Lines;

    [Fact]
    public void A_failure_reported_every_50_ms_is_logged_once_then_with_its_count_once_a_minute()
    {
        var lines = Lines();
        for (int i = 0; i <= 2400; i++) // two minutes
        {
            lines.Log("FAIL", string.Format(Refused, i % 3)); // the timing in it varies
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(3, Logged.Count);
        Assert.Contains("Stream clicks: kafka FAIL: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)", Logged[0]);
        Assert.Contains("Connection refused (after 0ms in state CONNECT) (1200 more like it in the last 60 s)", Logged[1]);
        Assert.Contains("(1200 more like it in the last 60 s)", Logged[2]);
    }

    [Fact]
    public void Different_lines_are_each_logged_at_once_and_a_count_waits_for_its_minute()
    {
        var lines = Lines();
        lines.Log("FAIL", string.Format(Refused, 0));
        lines.Log("FAIL", string.Format(Refused, 4).Replace(")", ", 3 identical error(s) suppressed)"));
        lines.Log("REQTMOUT", "Timed out MetadataRequest in flight (after 60002ms)");
        lines.Log("FAIL", "127.0.0.1:1/bootstrap: Disconnected (after 5ms in state UP)");
        Assert.Equal(3, Logged.Count);

        _time.Advance(TimeSpan.FromSeconds(59));
        lines.Flush();
        Assert.Equal(3, Logged.Count);

        _time.Advance(TimeSpan.FromSeconds(1));
        lines.Flush();
        Assert.Equal(4, Logged.Count);
        Assert.Contains("Connection refused (after 4ms in state CONNECT, 3 identical error(s) suppressed) (1 more like it in the last 60 s)", Logged[3]);

        // The lines that were not repeated are forgotten at their minute: after a quiet minute, a line is news again.
        _time.Advance(TimeSpan.FromSeconds(60));
        lines.Flush();
        Assert.Equal(4, Logged.Count);
        lines.Log("FAIL", string.Format(Refused, 0));
        lines.Log("REQTMOUT", "Timed out MetadataRequest in flight (after 60001ms)");
        Assert.Equal(6, Logged.Count);
        Assert.DoesNotContain("more like it", Logged[5]);
    }

    [Fact]
    public void A_stopping_source_logs_the_counts_it_holds_back()
    {
        var lines = Lines();
        for (int i = 0; i < 10; i++)
            lines.Log("FAIL", string.Format(Refused, 0));
        Assert.Equal(9, lines.HeldBack);

        lines.Flush(stopping: true);

        Assert.Equal(2, Logged.Count);
        Assert.Contains("(9 more like it in the last 0 s)", Logged[1]);
        Assert.Equal(0, lines.HeldBack);
    }

    [Fact]
    public async Task A_source_whose_broker_is_unreachable_logs_librdkafkas_failure_once_a_minute()
    {
        int port = ClosedPort();
        const string Legacy = """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""";
        using var json = JsonDocument.Parse($$"""
            {"name": "clicks", "source": {"type": "kafka", "bootstrap_servers": "127.0.0.1:{{port}}", "topic": "clicks", "config": {{Legacy}} } }
            """);
        var definition = StreamDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
        await using var stream = new IngestStream(definition, _dir, IngestLog.Open(Path.Combine(_dir, "log"), new IngestLogOptions()));
        await using var source = new KafkaSource(stream, new PipelinesOptions { Directory = _dir }, new PipelineMetrics(), _logs.CreateLogger("kafka"), _time);
        source.Start();

        await UntilAsync(() => source.KafkaLinesHeldBack >= 20, "librdkafka never reported 20 failures to reach the broker");
        var failures = Logged.Where(l => l.Contains("kafka FAIL", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count == 1, string.Join("\n", failures));

        _time.Advance(RepeatedLogLines.Interval);
        static bool Counted(string line) => line.Contains("kafka FAIL", StringComparison.Ordinal) && line.Contains("more like it", StringComparison.Ordinal);
        await UntilAsync(() => Logged.Any(Counted), "the count was never logged");
        var summary = Logged.Single(Counted);
        Assert.Contains($"Connect to ipv4#127.0.0.1:{port} failed", summary);
        long count = long.Parse(summary[(summary.LastIndexOf('(') + 1)..summary.IndexOf(" more like it", StringComparison.Ordinal)]);
        Assert.True(count >= 20, summary);
    }

    /// <summary>A port nothing listens on: bound, then let go.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task UntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        _logs.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

}
