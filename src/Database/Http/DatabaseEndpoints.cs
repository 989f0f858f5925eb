using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using DataPlane.Database.Log;
using DataPlane.Database.Replication;
using DataPlane.Database.Sessions;
using DataPlane.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Database.Http;

/// <summary>
/// The HTTP API: <c>/api/v1/databases</c> to manage databases and tokens, <c>/db/{name}/query</c> to
/// run SQL, <c>/db/{name}/replicas</c> for lag, and <c>/db/{name}/log|snapshot</c> for replica hosts.
/// Metrics are not mapped here: <see cref="DatabaseMetrics"/> records them on a meter the host's one <c>/metrics</c> serves.
/// </summary>
public static class DatabaseEndpoints
{
    public static IServiceCollection AddDataPlaneDatabases(this IServiceCollection services, DatabaseOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<DatabaseCatalog>();
        services.AddSingleton<AccessPolicy>();
        services.AddMetrics();
        services.AddSingleton<DatabaseMetrics>();
        services.AddHostedService<DatabaseStartup>();
        return services;
    }

    /// <summary>Whether the request may create databases (anonymous access on, or the admin token), for a host's
    /// <c>GET /api/v1/access</c>. Each database's data is reached with its own tokens.</summary>
    public static bool MayManageDatabases(this IServiceProvider services, HttpRequest request)
    {
        var policy = services.GetRequiredService<AccessPolicy>();
        return policy.AllowAnonymous || policy.IsAdmin(BearerToken.From(request));
    }

    public static IEndpointRouteBuilder MapDataPlaneDatabases(this IEndpointRouteBuilder app)
    {
        app.ServiceProvider.GetRequiredService<DatabaseMetrics>(); // its instruments exist from the start
        var admin = app.MapGroup("/api/v1/databases");
        admin.MapGet("", async (DatabaseCatalog catalog, HttpContext http) =>
            await Handle(http, async () => Results.Json(new { databases = await catalog.ListAsync(http.RequestAborted) }, Json)));
        admin.MapPost("", async (DatabaseCatalog catalog, AccessPolicy policy, HttpContext http) => await Handle(http, async () =>
        {
            using var body = await RequestBody.ReadObjectAsync(http, "{\"name\": \"app\", \"replicas\": 1}");
            string? name = RequestBody.String(body.RootElement, "name");
            policy.RequireManager(BearerToken.From(http.Request), $"Creating database '{name}'");
            int? replicas = RequestBody.Int32(body.RootElement, "replicas", 0, DatabaseCatalog.MaxReplicas);
            var info = await catalog.CreateAsync(name!, replicas, http.RequestAborted);
            return Results.Json(info, Json, statusCode: StatusCodes.Status201Created);
        }));
        admin.MapGet("/{name}", async (string name, DatabaseCatalog catalog, HttpContext http) => await Handle(http, async () =>
        {
            var list = await catalog.ListAsync(http.RequestAborted);
            var info = list.FirstOrDefault(d => d.Name == name);
            if (info is null && catalog.IsReplicaHost) await catalog.GetAsync(name, http.RequestAborted);
            return info is null
                ? throw new DatabaseException(DatabaseErrorKind.NotFound, $"Database '{name}' does not exist.", "database_not_found")
                : Results.Json(info, Json);
        }));
        admin.MapDelete("/{name}", async (string name, DatabaseCatalog catalog, AccessPolicy policy, HttpContext http) => await Handle(http, async () =>
        {
            if (await catalog.GetAsync(name, http.RequestAborted) is ReplicatedDatabase database)
                RequireTokenManager(database, policy, BearerToken.From(http.Request), $"Deleting database '{name}'");
            return await catalog.DeleteAsync(name, http.RequestAborted)
                ? Results.NoContent()
                : throw new DatabaseException(DatabaseErrorKind.NotFound, $"Database '{name}' does not exist.", "database_not_found");
        }));
        admin.MapPost("/{name}/tokens", async (string name, DatabaseCatalog catalog, AccessPolicy policy, HttpContext http) => await Handle(http, async () =>
        {
            using var body = await RequestBody.ReadObjectAsync(http, "{\"access\": \"read-only\"}");
            string? accessText = RequestBody.String(body.RootElement, "access");
            var access = accessText switch
            {
                "read-only" => Access.ReadOnly,
                "read-write" => Access.ReadWrite,
                _ => throw new DatabaseException(DatabaseErrorKind.BadRequest, $"\"access\" must be \"read-only\" or \"read-write\" (got '{accessText}').", "bad_access"),
            };
            var database = await catalog.GetLocalAsync(name, http.RequestAborted);
            RequireTokenManager(database, policy, BearerToken.From(http.Request), $"Issuing tokens for '{name}'");
            var (id, token) = database.Tokens.Issue(access);
            return Results.Json(new { id, token, access = accessText }, Json, statusCode: StatusCodes.Status201Created);
        }));

        var db = app.MapGroup("/db/{name}");
        db.MapPost("/query", async (string name, DatabaseCatalog catalog, HttpContext http) => await Handle(http, async () =>
        {
            var database = await catalog.GetAsync(name, http.RequestAborted);
            string? token = BearerToken.From(http.Request);
            var access = await RequireAccessAsync(database, token, http.RequestAborted);
            var session = SessionConstraint.Parse(http.Request.Headers[Bookmark.HeaderName].FirstOrDefault());
            using var body = await RequestBody.ReadAsync(http);
            var statements = QueryJson.ParseRequest(body.RootElement);
            var result = await database.QueryAsync(statements, session, access, token, http.RequestAborted);
            http.Response.Headers[Bookmark.HeaderName] = Bookmark.Format(result.Position);
            http.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(http.Response.BodyWriter);
            QueryJson.WriteResult(writer, result);
            await writer.FlushAsync(http.RequestAborted);
            return Results.Empty;
        }));
        db.MapGet("/replicas", async (string name, DatabaseCatalog catalog, HttpContext http) => await Handle(http, async () =>
        {
            var database = await catalog.GetAsync(name, http.RequestAborted);
            await RequireAccessAsync(database, BearerToken.From(http.Request), http.RequestAborted);
            long? position = (database as ReplicatedDatabase)?.Primary.Position;
            return Results.Json(new
            {
                primary_position = position,
                bookmark = position is { } p ? Bookmark.Format(p) : null,
                replicas = database.ReplicaStatuses().Select(s => new
                {
                    id = s.Id,
                    kind = s.Kind,
                    applied_position = s.AppliedPosition,
                    bookmark = Bookmark.Format(s.AppliedPosition),
                    lag_positions = s.LagPositions,
                    lag_ms = s.LagMilliseconds is { } ms && double.IsFinite(ms) ? Math.Round(ms, 3) : (double?)null,
                    lag_p50_ms = s.LagP50Milliseconds,
                    lag_p99_ms = s.LagP99Milliseconds,
                    last_seen = s.LastSeenUtc,
                }),
            }, Json);
        }));
        db.MapGet("/access", async (string name, DatabaseCatalog catalog, HttpContext http) => await Handle(http, async () =>
        {
            var database = await catalog.GetAsync(name, http.RequestAborted);
            var access = await RequireAccessAsync(database, BearerToken.From(http.Request), http.RequestAborted);
            return Results.Json(new { access = access == Access.ReadWrite ? "read-write" : "read-only" }, Json);
        }));
        db.MapGet("/log", async (string name, string? after, string? wait_ms, string? replica, DatabaseCatalog catalog, HttpContext http) => await Handle(http, async () =>
        {
            var database = await catalog.GetLocalAsync(name, http.RequestAborted);
            await RequireAccessAsync(database, BearerToken.From(http.Request), http.RequestAborted);
            long afterPosition = QueryNumber("after", after) ?? throw new DatabaseException(DatabaseErrorKind.BadRequest,
                "The query needs ?after=POSITION: the log position the replica has applied (0 for none).", "bad_after");
            var wait = TimeSpan.FromMilliseconds(Math.Clamp(QueryNumber("wait_ms", wait_ms) ?? 0, 0, 60_000));
            // Each name is kept (it holds back log truncation while it is live): a name is one replica's, not a payload.
            if (replica is { Length: > MaxReplicaName })
                throw new DatabaseException(DatabaseErrorKind.BadRequest, $"?replica= is a name of at most {MaxReplicaName} characters (got {replica.Length}).", "bad_replica");
            LogBatch batch;
            try
            {
                batch = await database.Primary.ReadLogAsync(replica ?? $"anonymous-{http.Connection.RemoteIpAddress}", afterPosition, wait, http.RequestAborted);
            }
            catch (LogTruncatedException e)
            {
                http.Response.Headers[HttpReplicationSource.PositionHeader] = e.FirstRetained.ToString(CultureInfo.InvariantCulture);
                throw new DatabaseException(DatabaseErrorKind.Conflict, e.Message, "log_truncated");
            }
            http.Response.Headers[HttpReplicationSource.PositionHeader] = batch.PrimaryPosition.ToString(CultureInfo.InvariantCulture);
            http.Response.ContentType = "application/octet-stream";
            var buffer = new MemoryStream();
            foreach (var entry in batch.Entries) LogRecordFormat.Write(buffer, entry);
            http.Response.ContentLength = buffer.Length;
            await http.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted);
            return Results.Empty;
        }));
        db.MapGet("/snapshot", async (string name, DatabaseCatalog catalog, HttpContext http) => await Handle(http, async () =>
        {
            var database = await catalog.GetLocalAsync(name, http.RequestAborted);
            await RequireAccessAsync(database, BearerToken.From(http.Request), http.RequestAborted);
            var snapshot = database.Primary.EnsureSnapshot();
            http.Response.Headers[HttpReplicationSource.PositionHeader] = snapshot.Position.ToString(CultureInfo.InvariantCulture);
            // Opened before the response starts: a newer snapshot may replace the file, the open handle keeps this one.
            var stream = new FileStream(snapshot.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return Results.Stream(stream, "application/vnd.sqlite3");
        }));
        return app;
    }

    private const int MaxReplicaName = 256;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Once a database has tokens, only one of its read-write tokens (or the admin token) may issue more
    /// or delete it; before, whoever may manage databases.
    /// </summary>
    private static void RequireTokenManager(ReplicatedDatabase database, AccessPolicy policy, string? token, string action)
    {
        if (database.Tokens.IsOpen)
        {
            policy.RequireManager(token, action);
            return;
        }
        if (policy.IsAdmin(token) || database.Tokens.Check(token) == Access.ReadWrite) return;
        throw new DatabaseException(DatabaseErrorKind.Forbidden, $"{action} needs one of its read-write tokens.", "forbidden");
    }

    private static async Task<Access> RequireAccessAsync(IDatabaseFrontend database, string? token, CancellationToken cancellationToken)
    {
        var access = await database.AuthorizeAsync(token, cancellationToken);
        if (access == Access.None)
            throw new DatabaseException(DatabaseErrorKind.Unauthorized,
                token is null ? $"Database '{database.Name}' needs a token: send 'Authorization: Bearer <token>'." : $"The token is not valid for database '{database.Name}'.",
                "unauthorized");
        return access;
    }

    /// <summary>A whole number from the query string, or null when absent; anything else is a 400 naming it.</summary>
    private static long? QueryNumber(string parameter, string? text) =>
        text is null ? null
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value
        : throw new DatabaseException(DatabaseErrorKind.BadRequest,
            $"?{parameter}= must be a whole number (got '{(text.Length <= 40 ? text : text[..40] + "...")}').", $"bad_{parameter}");

    private static async Task<IResult> Handle(HttpContext http, Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (DatabaseException e)
        {
            int status = e.Kind switch
            {
                DatabaseErrorKind.BadRequest => StatusCodes.Status400BadRequest,
                DatabaseErrorKind.Forbidden => StatusCodes.Status403Forbidden,
                DatabaseErrorKind.NotFound => StatusCodes.Status404NotFound,
                DatabaseErrorKind.Conflict when e.Code == "log_truncated" => StatusCodes.Status410Gone,
                DatabaseErrorKind.Conflict => StatusCodes.Status409Conflict,
                DatabaseErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
                DatabaseErrorKind.Timeout => StatusCodes.Status408RequestTimeout,
                _ => StatusCodes.Status503ServiceUnavailable,
            };
            return Results.Json(new { error = new { code = e.Code, message = e.Message } }, Json, statusCode: status);
        }
    }
}
