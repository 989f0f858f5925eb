using DataPlane.Slurper.Journal;

namespace DataPlane.Slurper;

/// <summary>How a run ended: the job's status as journaled, and where the report was written.</summary>
public sealed record SlurpResult(JobStatus Status, string JournalPath, string? ReportPath, long ObjectsCopiedThisRun, long BytesCopiedThisRun)
{
    public bool Succeeded => Status.Count(ObjectState.Dead) == 0 && Status.Remaining == 0;
}
