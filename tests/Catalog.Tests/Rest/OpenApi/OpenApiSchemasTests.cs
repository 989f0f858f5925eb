using System.Text.Json;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest.OpenApi;

/// <summary>The validator the endpoint tests rely on must reject what the spec rejects, or those tests prove nothing.</summary>
public sealed class OpenApiSchemasTests
{
    [Theory]
    [InlineData("""{"error": {"message": "m", "code": 404}}""", "missing required property 'type'")]
    [InlineData("""{"error": {"message": "m", "type": "T", "code": 700}}""", "above the maximum")]
    [InlineData("""{"error": {"message": "m", "type": "T", "code": 404}, "extra": 1}""", "'extra' is not allowed")]
    [InlineData("""{"error": {"message": 5, "type": "T", "code": 404}}""", "expected a string")]
    public void Rejects_error_responses_that_break_the_schema(string json, string expected)
    {
        var errors = OpenApiSchemas.Iceberg.Validate(JsonDocument.Parse(json).RootElement, "IcebergErrorResponse");
        Assert.Contains(errors, e => e.Contains(expected));
    }

    [Fact]
    public void Follows_refs_into_nested_schemas_and_accepts_a_conforming_value()
    {
        var ok = JsonDocument.Parse("""{"namespaces": [["a", "b"]], "next-page-token": null}""").RootElement;
        Assert.Empty(OpenApiSchemas.Iceberg.Validate(ok, "ListNamespacesResponse"));
        var bad = JsonDocument.Parse("""{"namespaces": [["a", 1]]}""").RootElement;
        Assert.Contains(OpenApiSchemas.Iceberg.Validate(bad, "ListNamespacesResponse"), e => e.StartsWith("$.namespaces[0][1]"));
    }
}
