using DataPlane.Pipelines.Streams;
using DataPlane.SqlTransforms;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// How a pipeline over a Kafka-backed stream spreads over the workers of its consumer group, as its plan shows it.
/// Stateless statements, and statements whose state splits by the stream's key (every GROUP BY and per-window top-N
/// names it, <see cref="SqlStatementPlan.StateKeyProblem"/>), scale with the partitions: each worker runs them over the
/// partitions it is given, with state and checkpoints per partition, since a key's records are all in one partition
/// (the stream's key field is hashed to partitions). Any other state needs every partition's records in one place: the
/// pipeline runs on one worker.
/// </summary>
internal sealed record ScaleOut(bool ByPartition, string Text)
{
    /// <summary>How <paramref name="program"/> over <paramref name="streams"/> spreads; null when it reads no Kafka-backed
    /// stream (a local log is read by the one process that holds it).</summary>
    public static ScaleOut? For(IReadOnlyList<StreamDefinition> streams, SqlProgram program)
    {
        if (streams.Count != 1 || !streams[0].KafkaBacked)
            return null;
        var stream = streams[0];
        if (!program.Statements.Any(s => s.IsStateful))
            return new ScaleOut(true, "scales with partitions (no keyed state)");
        if (stream.Key is not { } key)
            return new ScaleOut(false, $"runs on one worker: stream '{stream.Name}' names no key (\"key\": a field), so one key's records may be in any partition");
        foreach (var statement in program.Statements)
            if (statement.StateKeyProblem(stream.Name, key) is { } problem)
                return new ScaleOut(false, $"runs on one worker: {problem}");
        return new ScaleOut(true, $"scales with partitions (key = {key})");
    }
}
