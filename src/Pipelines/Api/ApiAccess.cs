using DataPlane.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary>
/// Who may use the streams, sinks and pipelines API: a bearer token from <see cref="PipelinesOptions.Tokens"/> when any
/// are configured, otherwise anyone if anonymous access is allowed (<see cref="AnonymousAccess"/>); ingest-only tokens
/// reach <c>POST /streams/{name}</c> and nothing else.
/// </summary>
internal sealed class ApiAccess
{
    private readonly bool _allowAnonymous;
    private readonly Dictionary<string, bool> _ingestOnly = new(StringComparer.Ordinal);

    public ApiAccess(PipelinesOptions options)
    {
        _allowAnonymous = AnonymousAccess.Allowed(options.Tokens.Count > 0, options.AllowAnonymous);
        for (int i = 0; i < options.Tokens.Count; i++)
        {
            var token = options.Tokens[i].Token;
            if (string.IsNullOrWhiteSpace(token))
                throw new ArgumentException($"Setting Pipelines:Tokens:{i}:Token is empty; give a value (environment: DATAPLANE_PIPELINES__TOKENS__{i}__TOKEN).");
            _ingestOnly[token] = options.Tokens[i].IngestOnly;
        }
    }

    /// <summary>An endpoint filter: 401 without a valid token, 403 when an ingest-only token manages.</summary>
    public EndpointFilterDelegate Require(bool management, EndpointFilterDelegate next) => async context =>
    {
        var http = context.HttpContext;
        if (_allowAnonymous)
            return await next(context);
        string? token = BearerToken.From(http.Request);
        if (token is null || !_ingestOnly.TryGetValue(token, out bool ingestOnly))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await JsonResponse.ErrorAsync(http.Response, StatusCodes.Status401Unauthorized, token is null
                ? "This API needs a token: send 'Authorization: Bearer <token>' with one of Pipelines:Tokens (the CLI reads DATAPLANE_TOKEN or --token)."
                : "The token is not one of Pipelines:Tokens.");
            return Results.Empty;
        }
        if (management && ingestOnly)
        {
            await JsonResponse.ErrorAsync(http.Response, StatusCodes.Status403Forbidden,
                $"The token may only ingest (POST /streams/{{name}}); {http.Request.Method} {http.Request.Path} needs a token without IngestOnly.");
            return Results.Empty;
        }
        return await next(context);
    };
}
