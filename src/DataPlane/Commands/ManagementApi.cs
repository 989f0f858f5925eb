using System.CommandLine;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace DataPlane.Commands;

/// <summary>The HTTP calls the stream, sink and pipeline commands make to a running server, and their error reporting.</summary>
internal static class ManagementApi
{
    public static readonly Option<string> ServerOption = new("--server")
    {
        Description = "The DataPlane server (default http://127.0.0.1:8181, or DATAPLANE_SERVER)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DATAPLANE_SERVER") ?? "http://127.0.0.1:8181",
    };

    public static readonly Option<string?> TokenOption = new("--token")
    {
        Description = "Bearer token, one of the server's Pipelines:Tokens (default: DATAPLANE_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DATAPLANE_TOKEN"),
    };

    /// <summary>Adds <c>--server</c> and <c>--token</c> to a command that talks to a running server.</summary>
    public static void AddConnectionOptions(Command command)
    {
        command.Options.Add(ServerOption);
        command.Options.Add(TokenOption);
    }

    /// <summary>A client for the server <c>--server</c> names, with <c>--token</c>'s bearer token.</summary>
    public static HttpClient CreateClient(ParseResult result)
    {
        var http = new HttpClient { BaseAddress = new Uri(result.GetValue(ServerOption)!.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
        if (result.GetValue(TokenOption) is { Length: > 0 } token)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public static async Task<int> Run(ParseResult result, Func<HttpClient, Task> action)
    {
        using var http = CreateClient(result);
        try
        {
            await action(http);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or HttpRequestException or InvalidOperationException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }

    public static Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? json, CancellationToken ct) =>
        SendAsync(http, method, path, json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"), ct);

    public static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new HttpRequestException($"Cannot reach the server at {http.BaseAddress}: {e.Message}. Is `dataplane serve` running (or --server set)?", e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                string message = text;
                try
                {
                    var body = JsonDocument.Parse(text).RootElement;
                    message = body.GetProperty("error").GetString() ?? text;
                    if (body.TryGetProperty("problems", out var problems))
                        message += "\n" + string.Join("\n", problems.EnumerateArray().Take(10).Select(p => $"  record {p.GetProperty("record")}, field {p.GetProperty("field")}: {p.GetProperty("reason").GetString()}"));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { }
                throw new InvalidOperationException($"{(int)response.StatusCode} {response.ReasonPhrase}: {message}");
            }
            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
    }
}
