namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// A commit refused because the sink's previous commit is no longer in the history of the table's current snapshot:
/// another writer rolled the table back past it. The pipeline then resumes from its last commit still in that history,
/// re-delivering from its log what the rollback took out.
/// </summary>
internal sealed class SinkRolledBackException(string message) : Exception(message);
