using Microsoft.AspNetCore.Http;

namespace DataPlane.Http;

/// <summary>A request's credentials: <c>Authorization: Bearer &lt;token&gt;</c> (RFC 6750; the scheme in any case).</summary>
public static class BearerToken
{
    /// <summary>The token, or null when the request has no Authorization header, another scheme, or an empty token.</summary>
    public static string? From(HttpRequest request)
    {
        string? header = request.Headers.Authorization.FirstOrDefault();
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        string token = header[7..].Trim();
        return token.Length == 0 ? null : token;
    }
}
