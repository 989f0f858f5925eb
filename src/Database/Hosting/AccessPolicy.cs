using System.Security.Cryptography;
using System.Text;
using DataPlane.Database.Execution;
using DataPlane.Http;

namespace DataPlane.Database.Hosting;

/// <summary>
/// Who may do what beyond a database's own tokens: the admin token, and whether databases without
/// tokens are open or closed until a token is issued: open only when no admin token is configured and
/// <see cref="DatabaseOptions.AllowAnonymous"/> is on (<see cref="AnonymousAccess"/>).
/// </summary>
internal sealed class AccessPolicy(DatabaseOptions options)
{
    private readonly byte[]? _adminHash = string.IsNullOrEmpty(options.AdminToken) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.AdminToken));

    public bool AllowAnonymous { get; } = AnonymousAccess.Allowed(!string.IsNullOrEmpty(options.AdminToken), options.AllowAnonymous);

    private string WhyClosed => _adminHash is not null ? "an admin token is configured" : "it listens on a non-loopback address";

    public bool IsAdmin(string? token) =>
        _adminHash is not null && token is not null && CryptographicOperations.FixedTimeEquals(_adminHash, SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The refusal for data requests to a database that has no tokens while anonymous access is off.</summary>
    public DatabaseException ClosedWithoutTokens(string database) => new(DatabaseErrorKind.Unauthorized,
        $"Database '{database}' has no tokens and anonymous access is off on this server ({WhyClosed}). " +
        $"Issue one with the admin token: POST /api/v1/databases/{database}/tokens {{\"access\": \"read-write\"}} with 'Authorization: Bearer <admin token>' " +
        "(setting Databases:AdminToken), or set Databases:AllowAnonymous to true.",
        "anonymous_access_off");

    /// <summary>Creating, deleting or giving a first token to a database without tokens: anyone when anonymous access is on, else the admin.</summary>
    public void RequireManager(string? token, string action)
    {
        if (AllowAnonymous || IsAdmin(token)) return;
        throw new DatabaseException(token is null ? DatabaseErrorKind.Unauthorized : DatabaseErrorKind.Forbidden,
            _adminHash is null
                ? $"{action} needs the admin token, and this server has none: anonymous access is off because it listens on a non-loopback address. " +
                  "Set Databases:AdminToken (DATAPLANE_DATABASES__ADMINTOKEN), or set Databases:AllowAnonymous to true."
                : $"{action} needs the admin token ('Authorization: Bearer <admin token>'): anonymous access is off on this server ({WhyClosed}).",
            "admin_required");
    }
}
