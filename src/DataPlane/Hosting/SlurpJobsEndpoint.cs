using DataPlane.Slurper;
using DataPlane.Slurper.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;

namespace DataPlane.Hosting;

/// <summary>
/// <c>GET /api/v1/slurp/jobs</c> and <c>GET /api/v1/slurp/jobs/JOB</c>: the slurp jobs whose journals are in the
/// journal folder (<c>~/.dataplane/slurp</c>, where <c>dataplane slurp</c> keeps them), read-only, for the console.
/// Jobs run from the command line; a running one's journal shows its progress here as it goes. Whoever may read
/// <c>/metrics</c> may read these (<see cref="MetricsAccess"/>).
/// </summary>
internal static class SlurpJobsEndpoint
{
    /// <summary>The most journals listed (the newest first) and dead letters returned for one job.</summary>
    public const int MaxJobs = 200;
    public const int MaxFailures = 1000;

    public static IEndpointRouteBuilder MapSlurpJobs(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/slurp/jobs", (HttpContext http, MetricsAccess access) =>
        {
            if (!access.Allows(http.Request)) return Refused();
            var directory = SlurpRunner.JournalDirectory;
            var journals = Directory.Exists(directory)
                ? new DirectoryInfo(directory).GetFiles("*.db").OrderByDescending(f => f.LastWriteTimeUtc).Take(MaxJobs).ToList()
                : [];
            return Results.Json(new
            {
                journal_directory = directory,
                jobs = journals.Select(f => Describe(Path.GetFileNameWithoutExtension(f.Name), f.FullName, failures: 0)).ToList(),
            });
        });
        app.MapGet("/api/v1/slurp/jobs/{job}", (HttpContext http, string job, MetricsAccess access) =>
        {
            if (!access.Allows(http.Request)) return Refused();
            var path = Path.Combine(SlurpRunner.JournalDirectory, job + ".db");
            // The name comes from the request: it may only name a journal file in the folder.
            if (job.Length == 0 || job.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || job.Contains("..", StringComparison.Ordinal) || !File.Exists(path))
                return Results.Json(new { error = $"No slurp job '{job}': GET /api/v1/slurp/jobs lists the journals in {SlurpRunner.JournalDirectory}." }, statusCode: StatusCodes.Status404NotFound);
            return Results.Json(Describe(job, path, MaxFailures));
        });
        return app;
    }

    private static IResult Refused() =>
        Results.Json(new { error = MetricsAccess.Refusal.Replace("GET /metrics", "GET /api/v1/slurp/jobs", StringComparison.Ordinal) }, statusCode: StatusCodes.Status401Unauthorized);

    private static object Describe(string job, string path, int failures)
    {
        JobStatus s;
        try
        {
            s = SlurpRunner.Status(job, path);
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException or IOException)
        {
            return new { job_id = job, state = "unreadable", error = e.Message };
        }
        return new
        {
            job_id = job,
            source = s.Source,
            destination = s.Destination,
            run = s.Run,
            state = s.State,
            listing_complete = s.ListingComplete,
            run_started_at = s.RunStartedAt,
            finished_at = s.FinishedAt,
            total_objects = s.Total,
            objects = Enum.GetValues<ObjectState>().ToDictionary(Name, s.Count),
            bytes_total = s.BytesTotal,
            bytes_copied = s.BytesCopied,
            bytes_remaining = s.BytesRemaining,
            bytes_per_second = Math.Round(s.BytesPerSecond, 1),
            failures_total = s.Failures.Count,
            failures = s.Failures.Take(failures).Select(f => new { key = f.Key, attempts = f.Attempts, error = f.Error }),
        };
    }

    /// <summary>snake_case of the state's name: copied, skipped_existing, dead...</summary>
    private static string Name(ObjectState state) =>
        string.Concat(state.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
