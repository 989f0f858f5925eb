namespace DataPlane.SqlTransforms;

/// <summary>How the input arrives: unbounded streams (pipelines), or bounded input with an end (the CLI over a file).</summary>
public enum SqlMode
{
    /// <summary>Stateless operators only; aggregation, DISTINCT, ORDER BY and LIMIT are refused until windows exist.</summary>
    Streaming,
    /// <summary>Everything, with aggregates and sorts emitted when the input finishes.</summary>
    Bounded,
}
