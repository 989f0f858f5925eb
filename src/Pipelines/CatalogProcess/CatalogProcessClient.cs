using System.Net.Http.Headers;
using System.Text.Json;
using DataPlane.Pipelines.Api;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.CatalogProcess;

/// <summary>
/// The management API of the catalog process (<c>--role catalog</c>) as an ingest or worker process reaches it: the
/// definitions it mirrors (<see cref="DefinitionsMirror"/>) and the management writes (and an ingest process's flushes) it
/// forwards, each sent with this process's <see cref="PipelinesOptions.CatalogToken"/>.
/// </summary>
internal sealed class CatalogProcessClient : IDisposable
{
    /// <summary>How long one call to the catalog process may take, unless the call says (a flush waits longer).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The largest answer read: a list of the most pipelines (1,000, each with up to 65,536 characters of SQL) fits.</summary>
    private const long MaxAnswerBytes = 256L * 1024 * 1024;

    private readonly HttpClient _http;

    public CatalogProcessClient(PipelinesOptions options)
    {
        Address = options.CatalogProcess ?? throw new ArgumentException("A process that mirrors the definitions needs the catalog process's address.");
        // Each call bounds itself (a forwarded flush longer than the others).
        _http = new HttpClient { BaseAddress = Address, Timeout = System.Threading.Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = MaxAnswerBytes };
        if (!string.IsNullOrEmpty(options.CatalogToken))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.CatalogToken);
    }

    /// <summary>The catalog process's base address (<c>--catalog</c>).</summary>
    public Uri Address { get; }

    /// <summary>
    /// <c>GET /api/v1/{kind}</c> (streams, sinks or pipelines), each definition whole (a stream's Kafka settings with their
    /// secrets, which the token must be allowed to see); an <see cref="HttpRequestException"/> names what went wrong.
    /// </summary>
    public async Task<JsonDocument> ListAsync(string kind, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        using var response = await _http.GetAsync($"api/v1/{kind}{(kind == "streams" ? "?secrets=true" : "")}", deadline.Token);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {Address}api/v1/{kind} answered {(int)response.StatusCode}: {Shorten(body)}");
        return JsonDocument.Parse(body);
    }

    /// <summary>
    /// Sends the request's method, path, query and (already read and checked) JSON body to the catalog process and
    /// answers with what it answered: the same status, body and <c>Location</c>. 502 when it cannot be reached, 504 when
    /// it does not answer in time; either way the message says the change may not have been made.
    /// </summary>
    /// <param name="made">Runs when the catalog process made the change (a 2xx), before the answer is written.</param>
    /// <param name="timeout">How long to wait for its answer; <see cref="Timeout"/> when null.</param>
    public async Task ForwardAsync(HttpContext context, ReadOnlyMemory<byte>? body, Func<Task> made, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Timeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(limit);
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path.Value!.TrimStart('/') + request.QueryString.Value);
        if (body is { } bytes)
        {
            message.Content = new ReadOnlyMemoryContent(bytes);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, deadline.Token);
        }
        catch (HttpRequestException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status502BadGateway,
                $"The catalog process at {Address} (--catalog), which holds the definitions, could not be reached: {e.Message}. Nothing may have changed; try again.");
            return;
        }
        catch (TaskCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status504GatewayTimeout,
                $"The catalog process at {Address} (--catalog), which holds the definitions, did not answer within {limit.TotalSeconds:0} s; GET the definition to see whether it changed.");
            return;
        }
        using (response)
        {
            var answer = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
            if (response.IsSuccessStatusCode)
                await made();
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type)
                context.Response.ContentType = type.ToString();
            if (response.Headers.Location is { } location)
                context.Response.Headers.Location = location.ToString();
            if (answer.Length > 0)
                await context.Response.Body.WriteAsync(answer, context.RequestAborted);
        }
    }

    private static string Shorten(byte[] body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 500));
        return body.Length > 500 ? text + "..." : text;
    }

    public void Dispose() => _http.Dispose();
}
