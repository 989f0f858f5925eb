using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Streams;
using Xunit;

namespace DataPlane.Pipelines.Tests.Streams;

public sealed class StreamFieldTypesTests
{
    [Fact]
    public void Nested_field_types_are_written_back_as_given_without_the_field_ids_assigned_on_read()
    {
        const string fields = """
            [{"name":"id","type":"long","required":true},
             {"name":"who","type":{"type":"struct","fields":[{"name":"name","type":"string","required":false},{"name":"age","type":"int","required":true}]},"required":false},
             {"name":"tags","type":{"type":"list","element":{"type":"map","key":"string","value":"decimal(10,2)","value-required":true},"element-required":false},"required":false}]
            """;
        using var json = JsonDocument.Parse($$$"""{"name": "nested", "schema": {"fields": {{{fields}}}}}""");
        var definition = StreamDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            definition.WriteFields(w);
            w.WriteEndObject();
        }
        using var written = JsonDocument.Parse(buffer.ToArray());
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(fields).RootElement), written.RootElement.GetProperty("fields").GetRawText());
        Assert.DoesNotContain("-id\"", Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
