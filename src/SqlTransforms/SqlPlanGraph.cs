namespace DataPlane.SqlTransforms;

/// <summary>
/// A statement's plan as a graph, for tools that draw it (the console, <c>dataplane sql explain</c>): nodes in the
/// order of EXPLAIN's lines, and edges in the direction records flow, from an operator to the one that consumes its output.
/// </summary>
public sealed record SqlPlanGraph(IReadOnlyList<SqlPlanNode> Nodes, IReadOnlyList<SqlPlanEdge> Edges);

/// <summary>One operator: <see cref="Operator"/> is its kind (Scan, Filter, Project, Unnest, UnionAll, Aggregate, Sort, Limit, OneRow, and Sink or Output last); <see cref="Detail"/> what it does, in SQL.</summary>
public sealed record SqlPlanNode(int Id, string Operator, string Detail);

public sealed record SqlPlanEdge(int From, int To);
