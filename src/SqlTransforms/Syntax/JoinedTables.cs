namespace DataPlane.SqlTransforms.Syntax;

/// <summary>INNER, LEFT, RIGHT and FULL [OUTER] JOIN (CROSS JOIN is INNER without a condition).</summary>
internal enum JoinKind { Inner, Left, Right, Full }

/// <summary>
/// <c>left [INNER | LEFT | RIGHT | FULL [OUTER] | CROSS] JOIN right ON condition</c> in FROM; chains nest to the left
/// (<c>a JOIN b ON ... JOIN c ON ...</c> is <c>(a JOIN b) JOIN c</c>). <see cref="On"/> is null for CROSS JOIN.
/// </summary>
internal sealed record JoinedTables(TableReference Left, TableReference Right, JoinKind Kind, SqlExpression? On, int Start) : TableReference(null, Start);
