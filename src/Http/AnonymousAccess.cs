using System.Net;

namespace DataPlane.Http;

/// <summary>
/// When a request without a token is let in, the same for every API: never while tokens are configured for it (then
/// a token is required on every listen address); otherwise as configured, by default only when the server listens on
/// a loopback address, which only this machine can reach.
/// </summary>
public static class AnonymousAccess
{
    /// <param name="tokensConfigured">The API has tokens of its own in the settings.</param>
    /// <param name="allowAnonymous">Its AllowAnonymous setting, <see cref="ByDefault"/> unless configured.</param>
    public static bool Allowed(bool tokensConfigured, bool allowAnonymous) => !tokensConfigured && allowAnonymous;

    /// <summary>AllowAnonymous when not configured: on for a loopback listen address only.</summary>
    public static bool ByDefault(string listenHost) => IsLoopback(listenHost);

    /// <summary>True for loopback addresses (127.0.0.0/8, ::1, localhost): only clients on this machine can connect.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
