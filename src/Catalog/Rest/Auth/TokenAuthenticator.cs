using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Auth;

/// <summary>
/// Bearer-token checks: configured static tokens and tokens issued by <c>POST /v1/oauth/tokens</c> (kept in memory:
/// a restart asks clients to fetch a new one, which every OAuth2 client does on a 401). Expired tokens get 419
/// so clients refresh rather than give up.
/// </summary>
internal sealed class TokenAuthenticator
{
    private readonly RestCatalogOptions _options;
    private readonly Dictionary<string, bool> _static;
    private readonly ConcurrentDictionary<string, IssuedToken> _issued = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public TokenAuthenticator(RestCatalogOptions options, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _static = options.Tokens.ToDictionary(t => t.Token, t => t.ReadOnly, StringComparer.Ordinal);
    }

    /// <summary>Throws 401/419/403 unless the request carries a token allowed to do this.</summary>
    public void Check(HttpContext context, bool write)
    {
        if (AnonymousAccess.Allowed(_options.AuthenticationEnabled, _options.AllowAnonymous)) return;
        if (!_options.AuthenticationEnabled)
            throw RestException.NotAuthorized("This catalog takes no anonymous requests (the server listens on a non-loopback address) and has no tokens: " +
                "set Catalog:Tokens (DATAPLANE_CATALOG__TOKENS__0__TOKEN) or Catalog:Clients, or Catalog:AllowAnonymous to true.");
        if (BearerToken.From(context.Request) is not { } token)
            throw RestException.NotAuthorized(context.Request.Headers.Authorization.Count == 0
                ? "Authentication required: send 'Authorization: Bearer <token>' (tokens from POST /v1/oauth/tokens)."
                : "Unsupported Authorization header: use 'Bearer <token>'.");
        bool readOnly;
        if (_static.TryGetValue(token, out var r)) readOnly = r;
        else if (_issued.TryGetValue(token, out var issued))
        {
            if (issued.ExpiresAt <= _time.GetUtcNow())
            {
                _issued.TryRemove(token, out _);
                throw RestException.AuthenticationTimeout("The bearer token has expired; request a new one from POST /v1/oauth/tokens.");
            }
            readOnly = issued.ReadOnly;
        }
        else throw RestException.NotAuthorized("The bearer token is not valid for this catalog.");
        if (write && readOnly)
            throw RestException.Forbidden($"The token is read-only and cannot {context.Request.Method} {context.Request.Path}.");
    }

    /// <summary>Issues a token for a client's id and secret; null when they do not match a configured client.</summary>
    public (string Token, bool ReadOnly)? Issue(string clientId, string clientSecret)
    {
        var client = _options.Clients.FirstOrDefault(c => c.ClientId == clientId && FixedEquals(c.ClientSecret, clientSecret));
        if (client is null) return null;
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        _issued[token] = new IssuedToken(_time.GetUtcNow() + _options.IssuedTokenLifetime, client.ReadOnly);
        foreach (var (k, v) in _issued)
            if (v.ExpiresAt <= _time.GetUtcNow()) _issued.TryRemove(k, out _);
        return (token, client.ReadOnly);
    }

    private static bool FixedEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private sealed record IssuedToken(DateTimeOffset ExpiresAt, bool ReadOnly);
}
