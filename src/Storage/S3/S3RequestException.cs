using System.Net;

namespace DataPlane.Storage.S3;

/// <summary>An S3 error response: the HTTP status and S3's error code and message.</summary>
internal sealed class S3RequestException(HttpStatusCode status, string? code, string? message, string operation)
    : IOException($"S3 {operation} failed: {(int)status} {code ?? status.ToString()}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}")
{
    public HttpStatusCode Status { get; } = status;
    public string? Code { get; } = code;
}
