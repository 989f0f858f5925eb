using DataPlane.Maintenance;
using Xunit;

namespace DataPlane.Tests.Maintenance;

public sealed class MaintenanceHistoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("maintenance-history-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MaintenanceRun Finished(string outcome, int minute)
    {
        var at = new DateTimeOffset(2026, 12, 5, 12, minute, 0, TimeSpan.Zero);
        var run = new MaintenanceRun($"r{minute}", "default.events", new JobRequest(MaintenanceJob.Compact), "schedule", at);
        run.Start(at);
        run.Finish(new JobOutcome(outcome, "", 0, 0, 0, 0, [], new Dictionary<string, long>(), []), at.AddSeconds(30));
        return run;
    }

    [Fact]
    public void The_last_run_of_each_outcome_is_kept_so_a_check_that_found_nothing_to_do_does_not_hide_the_last_compaction()
    {
        var history = new MaintenanceHistory(_dir, perTable: 10);
        history.Add(Finished("succeeded", 1));
        history.Add(Finished("succeeded", 2));
        history.Add(Finished("nothing-to-do", 3));

        var latest = history.Latest().ToDictionary(r => r.Outcome!.Outcome, r => r.Id);
        Assert.Equal("r2", latest["succeeded"]);
        Assert.Equal("r3", latest["nothing-to-do"]);
        Assert.Equal(2, latest.Count);
        // And it holds after a restart, from the history file.
        Assert.Equal("r2", new MaintenanceHistory(_dir, perTable: 10).Latest().Single(r => r.Outcome!.Outcome == "succeeded").Id);
    }
}
