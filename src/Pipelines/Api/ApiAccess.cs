using DataPlane.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary>
/// Who may use the streams, sinks and pipelines API: a bearer token from <see cref="PipelinesOptions.Tokens"/> when any
/// are configured, otherwise anyone if anonymous access is allowed (<see cref="AnonymousAccess"/>); ingest-only tokens
/// reach <c>POST /streams/{name}</c> and nothing else, read-only tokens the management API's reads and nothing else.
/// </summary>
internal sealed class ApiAccess
{
    /// <summary>What a request may do here, as <c>GET /api/v1/access</c> reports it.</summary>
    public enum Level { None, Ingest, Read, Manage }

    private readonly bool _allowAnonymous;
    private readonly Dictionary<string, Level> _tokens = new(StringComparer.Ordinal);

    public ApiAccess(PipelinesOptions options)
    {
        _allowAnonymous = AnonymousAccess.Allowed(options.Tokens.Count > 0, options.AllowAnonymous);
        for (int i = 0; i < options.Tokens.Count; i++)
        {
            var t = options.Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Token))
                throw new ArgumentException($"Setting Pipelines:Tokens:{i}:Token is empty; give a value (environment: DATAPLANE_PIPELINES__TOKENS__{i}__TOKEN).");
            if (t.IngestOnly && t.ReadOnly)
                throw new ArgumentException($"Pipelines:Tokens:{i} is both IngestOnly and ReadOnly; a token is one or the other (or neither, to manage).");
            _tokens[t.Token] = t.IngestOnly ? Level.Ingest : t.ReadOnly ? Level.Read : Level.Manage;
        }
    }

    /// <summary>What the request's token (or no token) may do; None for a token that is not configured.</summary>
    public Level Of(HttpRequest request)
    {
        if (_allowAnonymous)
            return Level.Manage;
        return BearerToken.From(request) is { } token && _tokens.TryGetValue(token, out var level) ? level : Level.None;
    }

    /// <summary>An endpoint filter: 401 without a valid token, 403 when an ingest-only token manages or a read-only
    /// token changes anything (ingestion included).</summary>
    public EndpointFilterDelegate Require(bool management, EndpointFilterDelegate next) => async context =>
    {
        var http = context.HttpContext;
        var level = Of(http.Request);
        if (level == Level.Manage)
            return await next(context);
        if (level == Level.None)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await JsonResponse.ErrorAsync(http.Response, StatusCodes.Status401Unauthorized, BearerToken.From(http.Request) is null
                ? "This API needs a token: send 'Authorization: Bearer <token>' with one of Pipelines:Tokens (the CLI reads DATAPLANE_TOKEN or --token)."
                : "The token is not one of Pipelines:Tokens.");
            return Results.Empty;
        }
        if (level == Level.Ingest && management)
        {
            await JsonResponse.ErrorAsync(http.Response, StatusCodes.Status403Forbidden,
                $"The token may only ingest (POST /streams/{{name}}); {http.Request.Method} {http.Request.Path} needs a token without IngestOnly.");
            return Results.Empty;
        }
        if (level == Level.Read && (!management || !HttpMethods.IsGet(http.Request.Method)))
        {
            await JsonResponse.ErrorAsync(http.Response, StatusCodes.Status403Forbidden,
                $"The token is read-only (it may GET the management API); {http.Request.Method} {http.Request.Path} needs a token without ReadOnly.");
            return Results.Empty;
        }
        return await next(context);
    };
}
