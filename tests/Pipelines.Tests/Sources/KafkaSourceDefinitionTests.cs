using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sources;

/// <summary>A stream's Kafka source is checked when the stream is created: a mistake is a 400 naming the value and what would be valid.</summary>
public sealed class KafkaSourceDefinitionTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-def-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    private static string Stream(string source) =>
        $$"""{"name": "clicks", "schema": {"fields": [{"name": "id", "type": "long"}]}, "source": {{source}}}""";

    [Theory]
    [InlineData("""{"type": "kinesis", "topic": "clicks"}""", "Source type 'kinesis' is not supported")]
    [InlineData("""{"type": "kafka", "topic": "clicks"}""", "needs \"bootstrap_servers\"")]
    [InlineData("""{"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topic": "no spaces"}""", "topic 'no spaces' is not a valid Kafka topic name")]
    [InlineData("""{"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topic": "clicks\n"}""", "is not a valid Kafka topic name")]
    [InlineData("""{"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topic": "clicks", "format": "avro"}""", "format 'avro' is not supported")]
    [InlineData("""{"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topic": "clicks", "config": {"no.such.setting": "1"}}""", "no.such.setting")]
    public async Task A_bad_source_is_refused_with_the_reason(string source, string reason)
    {
        var response = await _host.Client.PostAsync("api/v1/streams", new StringContent(Stream(source), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(reason, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client.GetAsync("api/v1/streams/clicks")).StatusCode);
    }

    [Fact]
    public async Task The_source_is_kept_across_restarts_and_its_secrets_are_not_shown()
    {
        var created = await _host.Client.PostAsync("api/v1/streams", new StringContent(Stream(
            """{"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topic": "clicks", "config": {"sasl.password": "hunter2", "client.id": "dp"}}"""), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await _host.DisposeAsync();
        _host = await PipelinesHost.StartAsync(_dir);

        var stream = JsonDocument.Parse(await _host.Client.GetStringAsync("api/v1/streams/clicks")).RootElement;
        var source = stream.GetProperty("source");
        Assert.Equal("clicks", source.GetProperty("topic").GetString());
        Assert.Equal("dp", source.GetProperty("config").GetProperty("client.id").GetString());
        Assert.Equal("***", source.GetProperty("config").GetProperty("sasl.password").GetString());
        Assert.Equal(JsonValueKind.Null, stream.GetProperty("endpoint").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Client.DeleteAsync("api/v1/streams/clicks")).StatusCode);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
