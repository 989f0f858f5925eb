namespace DataPlane.Tests.Fuzz;

/// <summary>The resources the fuzz run sets up first, which the seed requests name.</summary>
internal sealed record FuzzTargets(
    string Stream, string Sink, string IdleSink, string Pipeline, string Database,
    string Namespace, string Table, string TableUuid, string TableLocation, string MetadataLocation, long SnapshotId, string ManifestList, string View);
