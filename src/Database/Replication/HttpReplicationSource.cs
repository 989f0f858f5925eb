using System.Globalization;
using System.Net;
using DataPlane.Database.Http;
using DataPlane.Database.Log;

namespace DataPlane.Database.Replication;

/// <summary>Pulls a primary's snapshot and log over HTTP; the log request long-polls.</summary>
internal sealed class HttpReplicationSource(HttpClient http, string database, string? token) : IReplicationSource
{
    public const string PositionHeader = "X-DataPlane-Position";

    public async Task<long> DownloadSnapshotAsync(string destinationPath, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"db/{database}/snapshot");
        DatabaseClient.Authorize(request, token);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccess(response, cancellationToken);
        await using (var file = File.Create(destinationPath))
        {
            await response.Content.CopyToAsync(file, cancellationToken);
            file.Flush(flushToDisk: true);
        }
        return ReadPosition(response);
    }

    public async Task<LogBatch> ReadLogAsync(string replicaId, long after, TimeSpan wait, CancellationToken cancellationToken)
    {
        string url = $"db/{database}/log?after={after}&wait_ms={(long)wait.TotalMilliseconds}&replica={Uri.EscapeDataString(replicaId)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        DatabaseClient.Authorize(request, token);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Gone) throw new LogTruncatedException(after, ReadPosition(response));
        await EnsureSuccess(response, cancellationToken);
        var entries = new List<LogEntry>();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        while (await LogRecordFormat.ReadAsync(body, cancellationToken) is { } entry) entries.Add(entry);
        return new LogBatch(entries, ReadPosition(response));
    }

    private static long ReadPosition(HttpResponseMessage response) =>
        response.Headers.TryGetValues(PositionHeader, out var values) && long.TryParse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture, out long p) ? p : 0;

    private static async Task EnsureSuccess(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        using var body = await DatabaseClient.ReadJsonAsync(response, cancellationToken);
        DatabaseClient.ThrowIfError(response, body.RootElement);
    }
}
