using System.Text.Json;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary><c>/api/v1/sinks</c>: create, list, get and delete sinks.</summary>
internal sealed class SinksApi(SinkRegistry sinks, PipelineRegistry pipelines)
{
    public async Task CreateAsync(HttpContext context)
    {
        using var json = await JsonResponse.ReadAsync(context);
        if (json is null)
            return;
        SinkDefinition sink;
        try
        {
            sink = SinkDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
        }
        catch (ArgumentException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        try
        {
            await sinks.CheckPathAsync(sink, context.RequestAborted);
            if (!sinks.TryCreate(sink))
            {
                await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, sinks.NameTaken(sink.Name));
                return;
            }
        }
        catch (InvalidOperationException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, e.Message);
            return;
        }
        context.Response.Headers.Location = $"/api/v1/sinks/{sink.Name}";
        await JsonResponse.WriteAsync(context.Response, StatusCodes.Status201Created, sink.Write);
    }

    /// <summary>The sinks and, by name among them, the stored ones that failed to load.</summary>
    public Task ListAsync(HttpContext context) =>
        JsonResponse.WriteListAsync(context.Response, "sinks",
            sinks.List().Select(s => (s.Name, (Action<Utf8JsonWriter>)s.Write))
                .Concat(sinks.Failed().Select(f => (f.Name, (Action<Utf8JsonWriter>)f.Write)))
                .OrderBy(e => e.Item1, StringComparer.Ordinal),
            (w, e) => e.Item2(w));

    public Task GetAsync(HttpContext context, string name) =>
        sinks.FindFailed(name) is { } failed
            ? JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, failed.Write)
            : JsonResponse.WriteFoundAsync(context.Response, sinks.Find(name), "sink", name, (w, sink) => sink.Write(w));

    public async Task DeleteAsync(HttpContext context, string name)
    {
        var writer = pipelines.List().FirstOrDefault(p => p.Writes(name));
        if (writer is not null)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, $"Sink '{name}' is written by pipeline '{writer.Definition.Name}'; delete the pipeline first.");
            return;
        }
        if (!sinks.Delete(name))
        {
            await JsonResponse.NotFoundAsync(context.Response, "sink", name);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
