namespace DataPlane.Iceberg.Metadata;

/// <summary>A commit was refused because the table changed underneath it (a requirement failed, or the metadata
/// location moved). Retry against fresh metadata; the REST catalog answers it with 409.</summary>
public sealed class CommitFailedException(string message) : Exception(message);
