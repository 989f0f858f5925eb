using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.CatalogProcess;

/// <summary>
/// A management write (create or delete a stream, sink or pipeline) sent to an ingest or worker process: checked here
/// like any request (token, body size, JSON), made by the catalog process, which owns the definitions, and answered with
/// its status and body. Once it is made, this process mirrors it before answering, so the caller's next read here shows it.
/// A flush sent to an ingest process, which runs no pipeline, is the catalog process's too (<see cref="FlushAsync"/>).
/// </summary>
internal sealed class ForwardedWrites(CatalogProcessClient catalog, DefinitionsMirror mirror, ILogger<ForwardedWrites> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        ReadOnlyMemory<byte>? body = null;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            using var json = await JsonResponse.ReadAsync(context);
            if (json is null)
                return;
            body = Encoding.UTF8.GetBytes(json.RootElement.GetRawText());
        }
        await catalog.ForwardAsync(context, body, async () =>
        {
            try
            {
                await mirror.SyncAsync(context.RequestAborted);
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException)
            {
                // Made there all the same: the next round of the mirror brings it.
                logger.LogWarning("{Method} {Path} was made by the catalog process, but reading it back failed: {Reason}", context.Request.Method, context.Request.Path, e.Message);
            }
        });
    }

    /// <summary>
    /// <c>POST /api/v1/pipelines/{name}/flush</c> on an ingest process: made by the catalog process, which asks every worker
    /// and answers once the table holds what they had read (<see cref="FlushRequests"/>), and answered with its status and
    /// body. The wait is the catalog's <c>timeout_seconds</c> and a call's time more; a value it refuses is its to name.
    /// </summary>
    public Task FlushAsync(HttpContext context)
    {
        int seconds = int.TryParse(context.Request.Query["timeout_seconds"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var asked)
            ? Math.Min(asked, FlushRequests.MaxTimeoutSeconds)
            : FlushRequests.DefaultTimeoutSeconds;
        return catalog.ForwardAsync(context, body: null, () => Task.CompletedTask, TimeSpan.FromSeconds(seconds) + CatalogProcessClient.Timeout);
    }
}
