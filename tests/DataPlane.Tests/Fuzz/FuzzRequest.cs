using System.Text;

namespace DataPlane.Tests.Fuzz;

/// <summary>One generated request, and what was done to its seed: the line a failure prints to reproduce it.</summary>
internal sealed record FuzzRequest(string Method, string PathAndQuery, byte[]? Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers, string Mutation)
{
    /// <summary>Whether the request could change stored state were it accepted (every method but GET and HEAD).</summary>
    public bool Writes => Method is not ("GET" or "HEAD");

    public override string ToString()
    {
        var body = Body is null ? "" : Body.Length > 300 ? $" body: {Body.Length:N0} bytes starting {Preview(Body, 200)}" : $" body: {Preview(Body, 300)}";
        return $"{Method} {Shorten(PathAndQuery, 300)} [{Mutation}]{body}";
    }

    private static string Preview(byte[] body, int length)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, length));
        return body.Length > length ? text + "..." : text;
    }

    private static string Shorten(string text, int length) => text.Length > length ? text[..length] + $"... ({text.Length:N0} chars)" : text;
}
