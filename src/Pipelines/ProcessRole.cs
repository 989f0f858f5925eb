namespace DataPlane.Pipelines;

/// <summary>
/// What one <c>dataplane serve</c> process does (<c>--role</c>). <see cref="All"/> is the one-machine default; the others
/// split it across processes that share a Kafka-backed stream's topic and one catalog process.
/// </summary>
public enum ProcessRole
{
    /// <summary>Everything in one process: ingestion into local logs or Kafka, pipelines, the catalog and the definitions.</summary>
    All,
    /// <summary>Takes HTTP records for Kafka-backed streams and produces them; mirrors the definitions from the catalog process.</summary>
    Ingest,
    /// <summary>Runs pipelines (and Kafka sources); mirrors the definitions from the catalog process and commits through its catalog.</summary>
    Worker,
    /// <summary>Serves the REST catalog and owns the stream, sink and pipeline definitions; runs no pipeline and takes no records.</summary>
    Catalog,
}
