using System.Security.Cryptography;
using System.Text;
using DataPlane.Catalog.Rest;
using DataPlane.Database;
using DataPlane.Http;
using DataPlane.Pipelines;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Hosting;

/// <summary>
/// Who may read <c>GET /metrics</c>, by the rule every API follows (<see cref="AnonymousAccess"/>): anyone only while
/// every API takes requests without a token; otherwise a token one of them is configured with: a catalog token, a
/// pipelines token that may manage, or the database admin token. (Metrics name every stream and database.)
/// </summary>
internal sealed class MetricsAccess
{
    private readonly bool _anonymous;
    private readonly List<byte[]> _hashes;

    /// <param name="catalog">Null in a process that serves no catalog (<c>--role ingest|worker</c>).</param>
    /// <param name="databases">Null in a process that serves no databases (<c>--role ingest|worker</c>).</param>
    public MetricsAccess(RestCatalogOptions? catalog, PipelinesOptions pipelines, DatabaseOptions? databases)
    {
        _anonymous = (catalog is null || AnonymousAccess.Allowed(catalog.Tokens.Count > 0 || catalog.Clients.Count > 0, catalog.AllowAnonymous))
            && AnonymousAccess.Allowed(pipelines.Tokens.Count > 0, pipelines.AllowAnonymous)
            && (databases is null || AnonymousAccess.Allowed(!string.IsNullOrEmpty(databases.AdminToken), databases.AllowAnonymous));
        IEnumerable<string?> tokens = [.. catalog?.Tokens.Select(t => t.Token) ?? [], .. pipelines.Tokens.Where(t => !t.IngestOnly).Select(t => t.Token), databases?.AdminToken];
        _hashes = [.. tokens.Where(t => !string.IsNullOrEmpty(t)).Select(t => Hash(t!))];
    }

    public bool Allows(HttpRequest request)
    {
        if (_anonymous) return true;
        if (BearerToken.From(request) is not { } token) return false;
        var hash = Hash(token);
        bool match = false;
        foreach (var known in _hashes) match |= CryptographicOperations.FixedTimeEquals(known, hash);
        return match;
    }

    public static string Refusal =>
        "GET /metrics needs a token: send 'Authorization: Bearer <token>' with a catalog token, a pipelines token that is not " +
        "IngestOnly, or the database admin token (this server takes no anonymous requests on every API).";

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
