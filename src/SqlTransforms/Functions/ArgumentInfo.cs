using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// What overload resolution knows of an argument: its type, and whether it is a string literal, which (as in
/// PostgreSQL and DuckDB) converts to whatever type the parameter wants: <c>ts &gt; '2024-01-01'</c>.
/// A constant argument's value is there for functions that need it when binding (date_trunc's part).
/// </summary>
/// An integer literal as written (<see cref="IsIntegerLiteral"/>) converts like DuckDB's: to INTEGER where its value
/// fits, and to wider types for free, so <c>(-2147483648) * i</c> is INTEGER arithmetic and <c>2147483647 * 2147483648</c> BIGINT.
internal sealed record ArgumentInfo(SqlType Type, bool IsStringLiteral, object? ConstantValue = null, bool IsConstant = false, bool IsIntegerLiteral = false);
