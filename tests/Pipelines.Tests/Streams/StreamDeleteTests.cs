using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace DataPlane.Pipelines.Tests.Streams;

/// <summary>
/// A stream's delete removes its folder: never one a stream created again under the name meanwhile owns, and never one
/// a pipeline still reads. The delete's stop-writers step is where it stands between leaving the registry and removing
/// the folder: what runs there is what another request can do at that moment.
/// </summary>
public sealed class StreamDeleteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stream-delete-").FullName;

    private StreamRegistry Open() =>
        new(new PipelinesOptions { Directory = _dir }, new PipelineMetrics(), NullLogger<StreamRegistry>.Instance);

    private static StreamDefinition Definition(string name)
    {
        using var json = JsonDocument.Parse($$"""{"name": "{{name}}"}""");
        return StreamDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
    }

    private static string ReadAll(IngestStream stream)
    {
        var text = new StringBuilder();
        for (long offset = stream.Log.StartOffset; stream.Log.TryRead(offset, out var batch); offset = batch.EndOffset)
        {
            text.Append(Encoding.UTF8.GetString(batch.Payload.Span));
            batch.Release();
        }
        return text.ToString();
    }

    [Fact]
    public async Task A_stream_created_again_while_the_delete_runs_never_has_its_folder_and_records_removed()
    {
        await using (var streams = Open())
        {
            Assert.True(streams.TryCreate(Definition("s"), out var old));
            await old.Log.AppendAsync("old"u8.ToArray(), 1);

            Exception? refused = null;
            Assert.True(await streams.DeleteAsync("s", () =>
            {
                try
                {
                    streams.TryCreate(Definition("s"), out _);
                }
                catch (InvalidOperationException e)
                {
                    refused = e;
                }
                return Task.CompletedTask;
            }));
            Assert.Contains("being deleted", refused?.Message);

            // Once the delete is done the name is free, and what the new stream acknowledges stays.
            Assert.True(streams.TryCreate(Definition("s"), out var again));
            await again.Log.AppendAsync("new"u8.ToArray(), 1);
        }
        await using (var reopened = Open())
        {
            var stream = Assert.Single(reopened.List());
            Assert.Equal("new", ReadAll(stream));
        }
    }

    [Fact]
    public async Task A_pipeline_cannot_start_reading_a_stream_being_deleted_and_one_reading_it_keeps_it()
    {
        await using var streams = Open();
        Assert.True(streams.TryCreate(Definition("read"), out var read));
        read.AddReader("p1", 0);
        var conflict = await Assert.ThrowsAsync<InvalidOperationException>(() => streams.DeleteAsync("read"));
        Assert.Contains("p1", conflict.Message);
        Assert.Same(read, streams.Find("read"));
        Assert.True(Directory.Exists(read.Directory));

        Assert.True(streams.TryCreate(Definition("gone"), out var gone));
        Exception? refused = null;
        await streams.DeleteAsync("gone", () =>
        {
            // A pipeline created now found the stream before the delete took it out of the registry.
            refused = Record.Exception(() => gone.AddReader("p2", 0));
            return Task.CompletedTask;
        });
        Assert.IsType<KeyNotFoundException>(refused);
        Assert.False(Directory.Exists(gone.Directory));
    }

    [Fact]
    public async Task A_kafka_stream_deleted_before_its_create_starts_the_source_gets_no_source_and_its_name_a_new_one()
    {
        await using var streams = Open();
        await using var sources = new StreamSources(streams, new PipelinesOptions { Directory = _dir }, new PipelineMetrics(), NullLogger<KafkaSource>.Instance);
        var definition = KafkaDefinition("clicks");
        Assert.True(streams.TryCreate(definition, out var deleted));
        // The create request has made the stream; a delete runs to its end before the create starts the source.
        Assert.True(await streams.DeleteAsync("clicks", () => sources.StopAsync("clicks")));
        sources.Start(deleted);
        Assert.Null(sources.Find("clicks"));

        Assert.True(streams.TryCreate(KafkaDefinition("clicks"), out var again));
        sources.Start(again);
        Assert.NotNull(sources.Find("clicks"));
    }

    private static StreamDefinition KafkaDefinition(string name)
    {
        // A broker nobody answers on: the source only has to exist.
        using var json = JsonDocument.Parse($$"""{"name": "{{name}}", "source": {"type": "kafka", "bootstrap_servers": "127.0.0.1:1", "topic": "clicks"} }""");
        return StreamDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
