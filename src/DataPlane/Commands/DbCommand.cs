using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using DataPlane.Database;
using DataPlane.Database.Execution;
using DataPlane.Database.Http;
using DataPlane.Database.Sessions;
using DataPlane.Hosting;
using DataPlane.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DataPlane.Commands;

/// <summary>
/// <c>dataplane db</c>: query a database on a server (<c>db query NAME "SQL"</c>), manage databases and
/// tokens, and run a replica host (<c>db replica --primary URL</c>) that pulls the log over HTTP.
/// </summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Server base URL", DefaultValueFactory = _ => $"http://127.0.0.1:{DataPlaneOptions.DefaultPort}" };
        var token = new Option<string?>("--token") { Description = "Database token (env DATAPLANE_DB_TOKEN)" };
        var command = new Command("db", "Replicated SQLite databases: query, create, list, delete, tokens, replica hosts.");
        command.Subcommands.Add(Query(url, token));
        command.Subcommands.Add(CreateDatabase(url, token));
        command.Subcommands.Add(List(url));
        command.Subcommands.Add(Delete(url, token));
        command.Subcommands.Add(Token(url, token));
        command.Subcommands.Add(Replica());
        return command;
    }

    private static Command Query(Option<string> url, Option<string?> token)
    {
        var name = new Argument<string>("name") { Description = "Database name" };
        var sql = new Argument<string>("sql") { Description = "SQL (one or more statements; several run as one transaction when they write)" };
        var parameters = new Option<string?>("--params") { Description = "Parameters as JSON: [1, \"a\"] (positional) or {\"id\": 1} (named)" };
        var session = new Option<string>("--session") { Description = "first-primary, first-unconstrained or a bookmark", DefaultValueFactory = _ => SessionConstraint.FirstPrimary };
        var command = new Command("query", "Run SQL on a database and print the rows as a table.") { name, sql, parameters, session, url, token };
        command.SetAction(async (r, ct) => await Guarded("db query", async () =>
        {
            var statement = ParseStatement(r.GetValue(sql)!, r.GetValue(parameters));
            using var http = Http(r.GetValue(url)!);
            var client = new DatabaseClient(http, r.GetValue(token) ?? Environment.GetEnvironmentVariable("DATAPLANE_DB_TOKEN"));
            var result = await client.QueryAsync(r.GetValue(name)!, [statement], r.GetValue(session), ct);
            foreach (var statementResult in result.Results)
            {
                if (statementResult.Columns.Length == 0) continue;
                var table = new Table();
                foreach (var column in statementResult.Columns) table.AddColumn(new TableColumn(new Text(column)));
                foreach (var row in statementResult.Rows) table.AddRow(row.Select(v => (IRenderable)new Text(Format(v))).ToArray());
                AnsiConsole.Write(table);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Results.Sum(x => x.Rows.Count)} row(s), {result.RowsWritten} written, served by {result.ServedBy} in {result.DurationMs:0.###} ms, bookmark {Bookmark.Format(result.Position)}"));
            return 0;
        }));
        return command;
    }

    private static Command CreateDatabase(Option<string> url, Option<string?> token)
    {
        var name = new Argument<string>("name") { Description = "Database name (a-z, 0-9, '_', '-')" };
        var replicas = new Option<int?>("--replicas") { Description = "In-process replicas (default 1)" };
        var command = new Command("create", "Create a database (--token: the admin token, when the server does not allow anonymous access).") { name, replicas, url, token };
        command.SetAction(async (r, ct) => await Guarded("db create", async () =>
        {
            using var http = Http(r.GetValue(url)!);
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/databases") { Content = JsonContent.Create(new { name = r.GetValue(name), replicas = r.GetValue(replicas) }) };
            if ((r.GetValue(token) ?? Environment.GetEnvironmentVariable("DATAPLANE_DB_TOKEN")) is { } t) request.Headers.Authorization = new("Bearer", t);
            using var response = await http.SendAsync(request, ct);
            return await PrintAsync(response, ct);
        }));
        return command;
    }

    private static Command List(Option<string> url)
    {
        var command = new Command("list", "List databases.") { url };
        command.SetAction(async (r, ct) => await Guarded("db list", async () =>
        {
            using var http = Http(r.GetValue(url)!);
            using var response = await http.GetAsync("api/v1/databases", ct);
            return await PrintAsync(response, ct);
        }));
        return command;
    }

    private static Command Delete(Option<string> url, Option<string?> token)
    {
        var name = new Argument<string>("name") { Description = "Database name" };
        var command = new Command("delete", "Delete a database and its files (--token: one of its read-write tokens, or the admin token).") { name, url, token };
        command.SetAction(async (r, ct) => await Guarded("db delete", async () =>
        {
            using var http = Http(r.GetValue(url)!);
            using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/v1/databases/{Uri.EscapeDataString(r.GetValue(name)!)}");
            if ((r.GetValue(token) ?? Environment.GetEnvironmentVariable("DATAPLANE_DB_TOKEN")) is { } t) request.Headers.Authorization = new("Bearer", t);
            using var response = await http.SendAsync(request, ct);
            return await PrintAsync(response, ct);
        }));
        return command;
    }

    private static Command Token(Option<string> url, Option<string?> token)
    {
        var name = new Argument<string>("name") { Description = "Database name" };
        var access = new Option<string>("--access") { Description = "read-only or read-write", DefaultValueFactory = _ => "read-only" };
        var command = new Command("token", "Issue a token for a database (once it has one, every request needs one).") { name, access, url, token };
        command.SetAction(async (r, ct) => await Guarded("db token", async () =>
        {
            using var http = Http(r.GetValue(url)!);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/databases/{Uri.EscapeDataString(r.GetValue(name)!)}/tokens")
            {
                Content = JsonContent.Create(new { access = r.GetValue(access) }),
            };
            if (r.GetValue(token) is { } t) request.Headers.Authorization = new("Bearer", t);
            using var response = await http.SendAsync(request, ct);
            return await PrintAsync(response, ct);
        }));
        return command;
    }

    private static Command Replica()
    {
        var primary = new Option<string>("--primary") { Description = "The primary server's base URL", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port for reads (0 picks a free one)", DefaultValueFactory = _ => DataPlaneOptions.DefaultPort + 1 };
        var data = new Option<string>("--data") { Description = "Data directory (replicas under <data>/replica-databases)", DefaultValueFactory = _ => "data" };
        var databases = new Option<string[]>("--database") { Description = "Replicate only this database (repeatable; default: every database on the primary)" };
        var replicaName = new Option<string?>("--name") { Description = "This replica's name in the primary's replica list (default: machine name)" };
        var token = new Option<string?>("--token") { Description = "Token for reading the primary's log (env DATAPLANE_DB_TOKEN)" };
        var waitMs = new Option<int>("--read-timeout-ms") { Description = "How long a read waits for the session's bookmark before going to the primary", DefaultValueFactory = _ => 2000 };
        var command = new Command("replica", "Run a read replica host: pulls the primary's log over HTTP, serves reads, forwards writes.")
        {
            primary, host, port, data, databases, replicaName, token, waitMs,
        };
        command.SetAction(async (r, ct) => await Guarded("db replica", async () =>
        {
            if (!Uri.TryCreate(r.GetValue(primary)!.TrimEnd('/') + "/", UriKind.Absolute, out var primaryUrl) || primaryUrl.Scheme is not ("http" or "https"))
                throw new ArgumentException($"--primary '{r.GetValue(primary)}' is not an http(s) URL such as http://10.0.0.5:8181.");
            var options = new DatabaseOptions
            {
                DataDirectory = Path.Combine(Path.GetFullPath(r.GetValue(data)!), "replica-databases"),
                PrimaryUrl = primaryUrl,
                ReplicaName = r.GetValue(replicaName),
                PrimaryToken = r.GetValue(token) ?? Environment.GetEnvironmentVariable("DATAPLANE_DB_TOKEN"),
                ReplicateOnly = r.GetValue(databases) ?? [],
                ReplicaReadTimeout = TimeSpan.FromMilliseconds(Math.Max(0, r.GetValue(waitMs))),
                // Reachable from other machines: a database the primary leaves open is not served here.
                AllowAnonymous = AnonymousAccess.ByDefault(r.GetValue(host)!),
            };
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://{r.GetValue(host)}:{r.GetValue(port)}");
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Services.AddDataPlaneDatabases(options);
            await using var app = builder.Build();
            app.MapDataPlaneDatabases();
            await app.StartAsync(ct);
            Console.WriteLine($"Replica host listening on {string.Join(", ", app.Urls)}, primary {primaryUrl}, data in {options.DataDirectory}");
            await app.WaitForShutdownAsync(ct);
            return 0;
        }));
        return command;
    }

    private static SqlStatement ParseStatement(string sql, string? parametersJson)
    {
        if (string.IsNullOrWhiteSpace(parametersJson)) return new SqlStatement(sql);
        JsonElement parameters;
        try
        {
            parameters = JsonDocument.Parse(parametersJson).RootElement;
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--params is not JSON ({e.Message}); give [1, \"a\"] or {{\"id\": 1}}.");
        }
        using var body = JsonDocument.Parse(JsonSerializer.Serialize(new { sql, @params = parameters }));
        return QueryJson.ParseRequest(body.RootElement)[0];
    }

    private static string Format(object? value) => value switch
    {
        null => "NULL",
        byte[] bytes => "x'" + Convert.ToHexString(bytes) + "'",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static HttpClient Http(string url)
    {
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var baseAddress))
            throw new ArgumentException($"--url '{url}' is not a URL such as http://127.0.0.1:8181.");
        return new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(100) };
    }

    private static async Task<int> PrintAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string body = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode)
        {
            if (body.Length > 0) Console.WriteLine(body);
            return 0;
        }
        Console.Error.WriteLine($"HTTP {(int)response.StatusCode}: {body}");
        return 1;
    }

    private static async Task<int> Guarded(string what, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (DatabaseException e)
        {
            Console.Error.WriteLine($"dataplane {what}: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"dataplane {what}: {e.Message}");
            return 2;
        }
    }
}
