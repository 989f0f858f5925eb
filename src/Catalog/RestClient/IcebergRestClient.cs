using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RestSharp;

namespace DataPlane.Catalog.RestClient;

/// <summary>
/// A client for any Iceberg REST catalog (DataPlane's own, Nessie's <c>/iceberg</c> endpoint, R2 Data Catalog, Polaris):
/// it reads <c>/v1/config</c> first and follows its <c>prefix</c> override, fetches a token with client credentials
/// when given them, and turns error answers into <see cref="RestCatalogException"/> with the spec's exception type.
/// Thread-safe: one instance serves many concurrent writers.
/// </summary>
public sealed class IcebergRestClient : IDisposable
{
    private readonly RestSharp.RestClient _http;
    private readonly string? _warehouse;
    private readonly (string Id, string Secret)? _credential;
    private string? _token;
    private string _prefix = "";

    /// <param name="catalogUri">The catalog root, e.g. <c>http://127.0.0.1:8181/iceberg</c> (the part before <c>/v1</c>).</param>
    /// <param name="credential">OAuth2 client credentials as <c>id:secret</c>, exchanged at <c>/v1/oauth/tokens</c>.</param>
    public IcebergRestClient(Uri catalogUri, string? warehouse = null, string? token = null, string? credential = null)
    {
        _http = new RestSharp.RestClient(new RestClientOptions(catalogUri.ToString().TrimEnd('/') + "/") { ThrowOnAnyError = false, Timeout = TimeSpan.FromSeconds(60) });
        _warehouse = warehouse;
        _token = token;
        if (credential is not null)
        {
            var colon = credential.IndexOf(':');
            _credential = colon > 0 ? (credential[..colon], credential[(colon + 1)..]) : throw new ArgumentException("A credential is 'client_id:client_secret'.", nameof(credential));
        }
    }

    /// <summary>The configuration the server returned (defaults, then overrides).</summary>
    public IReadOnlyDictionary<string, string> Config { get; private set; } = new Dictionary<string, string>();

    /// <summary>Authenticates if needed and reads <c>/v1/config</c>; call once before anything else.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_credential is { } c) await FetchTokenAsync(c.Id, c.Secret, cancellationToken);
        var request = new RestRequest("v1/config");
        if (_warehouse is not null) request.AddQueryParameter("warehouse", _warehouse);
        var config = await SendAsync(request, cancellationToken);
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var section in new[] { "defaults", "overrides" })
            if (config.TryGetProperty(section, out var map) && map.ValueKind == JsonValueKind.Object)
                foreach (var p in map.EnumerateObject())
                    merged[p.Name] = p.Value.ToString();
        Config = merged;
        _prefix = merged.TryGetValue("prefix", out var prefix) && prefix.Length > 0 ? prefix.Trim('/') + "/" : "";
    }

    // ---- namespaces ----

    public Task CreateNamespaceAsync(IReadOnlyList<string> ns, IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default) =>
        SendAsync(Json(new RestRequest(Path("namespaces"), Method.Post), new JsonObject
        {
            ["namespace"] = new JsonArray(ns.Select(l => (JsonNode)l).ToArray()),
            ["properties"] = new JsonObject((properties ?? new Dictionary<string, string>()).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        }), cancellationToken);

    /// <summary>Every namespace under <paramref name="parent"/> (top level when null), following pages.</summary>
    public async Task<List<IReadOnlyList<string>>> ListNamespacesAsync(IReadOnlyList<string>? parent = null, CancellationToken cancellationToken = default)
    {
        var result = new List<IReadOnlyList<string>>();
        await foreach (var page in PagesAsync(Path("namespaces"), parent is null ? null : Encode(parent), "namespaces", cancellationToken))
            result.Add(page.EnumerateArray().Select(l => l.GetString()!).ToList());
        return result;
    }

    public async Task<IReadOnlyDictionary<string, string>> LoadNamespaceAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(new RestRequest(Path("namespaces/" + Encode(ns))), cancellationToken);
        return response.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object
            ? p.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetString() ?? "")
            : new Dictionary<string, string>();
    }

    public Task DropNamespaceAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default) =>
        SendAsync(new RestRequest(Path("namespaces/" + Encode(ns)), Method.Delete), cancellationToken);

    // ---- tables ----

    public async Task<List<string>> ListTablesAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default)
    {
        var result = new List<string>();
        await foreach (var id in PagesAsync(Path($"namespaces/{Encode(ns)}/tables"), null, "identifiers", cancellationToken))
            result.Add(id.GetProperty("name").GetString()!);
        return result;
    }

    /// <param name="createRequest">A <c>CreateTableRequest</c> body: <c>name</c>, <c>schema</c>, optional spec, order, properties.</param>
    public async Task<LoadedTable> CreateTableAsync(IReadOnlyList<string> ns, JsonObject createRequest, CancellationToken cancellationToken = default) =>
        ToTable(await SendAsync(Json(new RestRequest(Path($"namespaces/{Encode(ns)}/tables"), Method.Post), createRequest), cancellationToken));

    public Task<LoadedTable> LoadTableAsync(IReadOnlyList<string> ns, string table, CancellationToken cancellationToken = default) =>
        LoadTableAsync(ns, table, vendedCredentials: false, cancellationToken);

    /// <param name="vendedCredentials">Ask for keys to the table's files (<c>X-Iceberg-Access-Delegation: vended-credentials</c>);
    /// those the catalog gives for the table's location are in <see cref="LoadedTable.Config"/>.</param>
    public async Task<LoadedTable> LoadTableAsync(IReadOnlyList<string> ns, string table, bool vendedCredentials, CancellationToken cancellationToken = default)
    {
        var request = new RestRequest(Path($"namespaces/{Encode(ns)}/tables/{Uri.EscapeDataString(table)}"));
        if (vendedCredentials) request.AddHeader("X-Iceberg-Access-Delegation", "vended-credentials");
        return ToTable(await SendAsync(request, cancellationToken));
    }

    /// <summary>Commits requirements and updates; a lost race throws <see cref="RestCatalogException"/> with <see cref="RestCatalogException.IsCommitConflict"/>.</summary>
    public async Task<LoadedTable> CommitTableAsync(IReadOnlyList<string> ns, string table, JsonArray requirements, JsonArray updates, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["requirements"] = requirements, ["updates"] = updates };
        return ToTable(await SendAsync(Json(new RestRequest(Path($"namespaces/{Encode(ns)}/tables/{Uri.EscapeDataString(table)}"), Method.Post), body), cancellationToken));
    }

    public Task DropTableAsync(IReadOnlyList<string> ns, string table, bool purge = false, CancellationToken cancellationToken = default) =>
        SendAsync(new RestRequest(Path($"namespaces/{Encode(ns)}/tables/{Uri.EscapeDataString(table)}") + (purge ? "?purgeRequested=true" : ""), Method.Delete), cancellationToken);

    // ---- plumbing ----

    private async IAsyncEnumerable<JsonElement> PagesAsync(string resource, string? parent, string arrayKey, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = "";
        while (token is not null)
        {
            var request = new RestRequest(resource);
            if (parent is not null) request.AddQueryParameter("parent", parent, encode: false);
            request.AddQueryParameter("pageToken", token);
            var page = await SendAsync(request, cancellationToken);
            if (page.TryGetProperty(arrayKey, out var items))
                foreach (var item in items.EnumerateArray()) yield return item;
            token = page.TryGetProperty("next-page-token", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
    }

    private async Task<JsonElement> SendAsync(RestRequest request, CancellationToken cancellationToken)
    {
        if (_token is not null) request.AddHeader("Authorization", "Bearer " + _token);
        var response = await _http.ExecuteAsync(request, cancellationToken);
        if (response.ErrorException is not null && response.StatusCode == 0)
            throw new HttpRequestException($"Cannot reach the Iceberg REST catalog at {_http.Options.BaseUrl}: {response.ErrorException.Message}", response.ErrorException);
        var code = (int)response.StatusCode;
        if (code >= 400) throw ToError(code, response.Content);
        if (response.StatusCode == HttpStatusCode.NoContent || string.IsNullOrEmpty(response.Content)) return default;
        using var doc = JsonDocument.Parse(response.Content);
        return doc.RootElement.Clone();
    }

    private async Task FetchTokenAsync(string id, string secret, CancellationToken cancellationToken)
    {
        var request = new RestRequest("v1/oauth/tokens", Method.Post);
        request.AddParameter("grant_type", "client_credentials");
        request.AddParameter("client_id", id);
        request.AddParameter("client_secret", secret);
        request.AddParameter("scope", "catalog");
        var response = await _http.ExecuteAsync(request, cancellationToken);
        if (!response.IsSuccessful || response.Content is null)
            throw new RestCatalogException((int)response.StatusCode, "OAuthError", response.Content ?? response.ErrorMessage ?? "no response");
        using var doc = JsonDocument.Parse(response.Content);
        _token = doc.RootElement.GetProperty("access_token").GetString();
    }

    private static RestCatalogException ToError(int code, string? content)
    {
        try
        {
            using var doc = JsonDocument.Parse(content ?? "");
            if (doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
                return new RestCatalogException(code, e.GetProperty("type").GetString() ?? "", e.GetProperty("message").GetString() ?? "");
        }
        catch (JsonException)
        {
        }
        return new RestCatalogException(code, "HttpError", content ?? "");
    }

    private static LoadedTable ToTable(JsonElement e)
    {
        var metadata = e.GetProperty("metadata");
        var config = e.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
            ? c.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "")
            : new Dictionary<string, string>();
        // Vended keys come in storage-credentials, each for a location prefix; the longest prefix of the table's
        // location applies, over what config says (the spec: they take precedence).
        if (e.TryGetProperty("storage-credentials", out var credentials) && credentials.ValueKind == JsonValueKind.Array
            && metadata.TryGetProperty("location", out var l) && l.GetString() is { } location)
        {
            var best = credentials.EnumerateArray()
                .Where(x => x.TryGetProperty("prefix", out var p) && p.GetString() is { } prefix && location.StartsWith(prefix, StringComparison.Ordinal))
                .MaxBy(x => x.GetProperty("prefix").GetString()!.Length);
            if (best.ValueKind == JsonValueKind.Object && best.TryGetProperty("config", out var keys) && keys.ValueKind == JsonValueKind.Object)
                foreach (var p in keys.EnumerateObject()) config[p.Name] = p.Value.GetString() ?? "";
        }
        return new LoadedTable(
            e.TryGetProperty("metadata-location", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
            metadata, config);
    }

    private static RestRequest Json(RestRequest request, JsonNode body)
    {
        request.AddStringBody(body.ToJsonString(), ContentType.Json);
        return request;
    }

    private string Path(string relative) => "v1/" + _prefix + relative;

    /// <summary>A namespace in a path: levels escaped and joined by the unit separator (<c>%1F</c>).</summary>
    private static string Encode(IReadOnlyList<string> ns) => string.Join("%1F", ns.Select(Uri.EscapeDataString));

    public void Dispose() => _http.Dispose();
}
