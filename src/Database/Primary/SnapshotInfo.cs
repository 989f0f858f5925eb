namespace DataPlane.Database.Primary;

/// <summary>A copy of the database file as of a log position.</summary>
internal sealed record SnapshotInfo(string Path, long Position);
