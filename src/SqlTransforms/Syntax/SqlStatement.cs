namespace DataPlane.SqlTransforms.Syntax;

/// <summary>One statement of a SQL text: <c>INSERT INTO sink query</c>, or a plain query (the CLI's).</summary>
internal abstract record SqlStatement(int Start)
{
    public sealed record Insert(SqlName Sink, QueryExpression Body, int Start) : SqlStatement(Start);
    public sealed record Select(QueryExpression Body, int Start) : SqlStatement(Start);
    /// <summary><c>WATERMARK FOR [stream.]column AS column [- INTERVAL ...] [IDLE TIMEOUT INTERVAL ...]</c>: a stream's event time.</summary>
    public sealed record Watermark(SqlName? Stream, SqlName Column, SqlExpression Expression, SqlExpression? IdleTimeout, int Start) : SqlStatement(Start);
}
