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
}
