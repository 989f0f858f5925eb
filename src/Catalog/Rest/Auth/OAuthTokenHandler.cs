using System.Text;
using DataPlane.Catalog.Rest.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Auth;

/// <summary>
/// <c>POST /v1/oauth/tokens</c>, client_credentials only: deprecated in the spec but what Iceberg's Java, Python and
/// Spark clients still call when given a <c>credential</c>. Errors are OAuth2's own shape (<c>OAuthError</c>).
/// </summary>
internal static class OAuthTokenHandler
{
    public static async Task HandleAsync(HttpContext context, RestCatalog catalog)
    {
        if (!context.Request.HasFormContentType)
        {
            await WriteErrorAsync(context, 400, "invalid_request", "The token request must be application/x-www-form-urlencoded.");
            return;
        }
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            // Over the form limits (a 4 MiB value, 1,024 fields): the request's fault, said in OAuth's shape.
            await WriteErrorAsync(context, 400, "invalid_request", $"The token request's form cannot be read: {e.Message}");
            return;
        }
        catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // A multipart body that ends before its boundary, or one over the server's body limit (413).
            int status = e is BadHttpRequestException bad ? bad.StatusCode : 400;
            await WriteErrorAsync(context, status, "invalid_request", $"The token request's form cannot be read: {e.Message}");
            return;
        }
        var grantType = form["grant_type"].ToString();
        if (grantType != "client_credentials")
        {
            await WriteErrorAsync(context, 400, "unsupported_grant_type", $"grant_type '{grantType}' is not supported; use client_credentials.");
            return;
        }
        string clientId = form["client_id"].ToString(), clientSecret = form["client_secret"].ToString();
        var basic = context.Request.Headers.Authorization.ToString();
        if (basic.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..].Trim()));
                var colon = pair.IndexOf(':');
                if (colon > 0) (clientId, clientSecret) = (Uri.UnescapeDataString(pair[..colon]), Uri.UnescapeDataString(pair[(colon + 1)..]));
            }
            catch (FormatException)
            {
                await WriteErrorAsync(context, 400, "invalid_request", "The Basic Authorization header is not valid base64.");
                return;
            }
        }
        if (clientId.Length == 0 || clientSecret.Length == 0)
        {
            await WriteErrorAsync(context, 400, "invalid_request", "client_id and client_secret are required (form fields or Basic Authorization).");
            return;
        }
        if (catalog.Authenticator.Issue(clientId, clientSecret) is not { } issued)
        {
            await WriteErrorAsync(context, 401, "invalid_client", $"Unknown client '{clientId}' or wrong secret.");
            return;
        }
        var scope = form["scope"].ToString();
        await ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("access_token", issued.Token);
            w.WriteString("token_type", "bearer");
            w.WriteNumber("expires_in", (long)catalog.Options.IssuedTokenLifetime.TotalSeconds);
            w.WriteString("issued_token_type", "urn:ietf:params:oauth:token-type:access_token");
            if (scope.Length > 0) w.WriteString("scope", scope);
            w.WriteEndObject();
        });
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string error, string description) =>
        ResponseJson.WriteAsync(context, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", error);
            w.WriteString("error_description", description);
            w.WriteEndObject();
        });
}
