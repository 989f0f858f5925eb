namespace DataPlane.Pipelines.Sql;

/// <summary>
/// <c>INSERT INTO sink SELECT * | col [AS name], ... FROM stream [WHERE predicate]</c>: the statement a pipeline runs.
/// The full streaming SQL engine replaces this parser later; the runtime only needs a projection and a filter.
/// </summary>
internal sealed record PipelineStatement(string Sink, string Stream, IReadOnlyList<Projection>? Columns, Predicate? Where)
{
    /// <summary>Null <see cref="Columns"/> means <c>SELECT *</c>.</summary>
    public bool SelectsAll => Columns is null;
}

/// <summary>One selected column, optionally renamed.</summary>
internal sealed record Projection(string Column, string OutputName);
