using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary>
/// What a reader needs to reach a table's files, sent as <c>LoadTableResult.config</c>: the S3 endpoint, path-style
/// access and region for an S3 warehouse; the keys themselves only when vending is configured and the client asked
/// with <c>X-Iceberg-Access-Delegation: vended-credentials</c>. A local warehouse needs nothing: its locations are
/// <c>file://</c> URIs the reader opens directly.
/// </summary>
internal static class StorageConfig
{
    public const string DelegationHeader = "X-Iceberg-Access-Delegation";

    /// <summary>Whether this request gets keys: vending is on, keys are configured, and the client asked for them.</summary>
    public static bool Vends(RestCatalog catalog, HttpContext context) =>
        catalog.Options is { VendCredentials: true, S3.AccessKey: not null } &&
        context.Request.Headers[DelegationHeader].ToString().Contains("vended-credentials", StringComparison.OrdinalIgnoreCase);

    public static void Write(Utf8JsonWriter w, RestCatalog catalog, HttpContext context, string tableLocation)
    {
        var s3 = catalog.Options.S3;
        var vended = Vends(catalog, context);
        w.WriteStartObject("config");
        if (s3 is not null && tableLocation.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            if ((catalog.Options.ReaderS3Endpoint ?? s3.Endpoint) is { } endpoint) w.WriteString("s3.endpoint", endpoint);
            w.WriteString("s3.path-style-access", s3.PathStyle ? "true" : "false");
            w.WriteString("client.region", s3.Region);
            w.WriteString("s3.region", s3.Region);
            if (vended) WriteKeys(w, s3);
        }
        w.WriteEndObject();
        if (vended)
        {
            w.WriteStartArray("storage-credentials");
            w.WriteStartObject();
            w.WriteString("prefix", tableLocation);
            w.WriteStartObject("config");
            WriteKeys(w, s3!);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
        }
    }

    private static void WriteKeys(Utf8JsonWriter w, Storage.S3Options s3)
    {
        w.WriteString("s3.access-key-id", s3.AccessKey);
        w.WriteString("s3.secret-access-key", s3.SecretKey);
    }
}
