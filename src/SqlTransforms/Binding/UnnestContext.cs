namespace DataPlane.SqlTransforms.Binding;

/// <summary>While binding a select list with UNNEST: the lists found so far; element j becomes column <c>InputWidth + j</c>.</summary>
internal sealed record UnnestContext(List<BoundExpression> Lists, int InputWidth);
