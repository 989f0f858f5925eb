using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary>
/// What a reader needs to reach a table's files, sent as <c>LoadTableResult.config</c>: the S3 endpoint, path-style
/// access and region for an S3 warehouse. Never keys: the server's own are long-lived and can write and delete
/// everything, and it has no STS to mint scoped temporary ones, so a client asking for <c>vended-credentials</c> gets
/// none (the spec lets a server supply "any or none" of the requested mechanisms) and reads with its own. A local
/// warehouse needs nothing: its locations are <c>file://</c> URIs the reader opens directly.
/// </summary>
internal static class StorageConfig
{
    public static void Write(Utf8JsonWriter w, RestCatalog catalog, HttpContext context, string tableLocation)
    {
        var s3 = catalog.Options.S3;
        w.WriteStartObject("config");
        if (s3 is not null && tableLocation.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            if ((catalog.Options.ReaderS3Endpoint ?? s3.Endpoint) is { } endpoint) w.WriteString("s3.endpoint", endpoint);
            w.WriteString("s3.path-style-access", s3.PathStyle ? "true" : "false");
            w.WriteString("client.region", s3.Region);
            w.WriteString("s3.region", s3.Region);
        }
        w.WriteEndObject();
    }
}
