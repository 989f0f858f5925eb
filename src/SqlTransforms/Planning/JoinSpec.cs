using System.Globalization;
using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Syntax;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// What a Join node matches: equality keys (<see cref="LeftKeys"/>[i] over the left input's columns equals
/// <see cref="RightKeys"/>[i] over the right's, both of one flat type; a NULL key matches nothing), then the rest of
/// the ON condition (<see cref="Residual"/>, over the left columns followed by the right ones). <see cref="Time"/>
/// bounds how long each side's rows are kept over streams; null over bounded input, where everything is kept to the end.
/// </summary>
internal sealed record JoinSpec(JoinKind Kind, IReadOnlyList<BoundExpression> LeftKeys, IReadOnlyList<BoundExpression> RightKeys, BoundExpression? Residual, JoinTime? Time)
{
    /// <summary>Rows of the left input appear unmatched (with NULLs on the right) in the output.</summary>
    public bool KeepsLeft => Kind is JoinKind.Left or JoinKind.Full;

    /// <summary>Rows of the right input appear unmatched (with NULLs on the left) in the output.</summary>
    public bool KeepsRight => Kind is JoinKind.Right or JoinKind.Full;
}

internal enum JoinTimeKind { Window, Interval }

/// <summary>
/// How a streaming join forgets rows: a left row whose time (left column <see cref="LeftColumn"/>) is t can match no
/// right row to come once the right input's watermark is past t + <see cref="LeftReach"/>, and a right row (column
/// <see cref="RightColumn"/>) once the left watermark is past t + <see cref="RightReach"/>. A window join's times are
/// the windows' bounds (a window's rows all arrive before the watermark passes its end); an interval join's are the
/// streams' event times, with the bounds of left time - right time in [<see cref="Lower"/>, <see cref="Upper"/>].
/// </summary>
internal sealed record JoinTime(JoinTimeKind Kind, int LeftColumn, int RightColumn, long LeftReach, long RightReach, long Lower = 0, long Upper = 0)
{
    public string Describe(IReadOnlyList<PlanColumn> left, IReadOnlyList<PlanColumn> right) => Kind == JoinTimeKind.Window
        ? $"window join on {left[LeftColumn].Name} = {right[RightColumn].Name}"
        : $"interval join {left[LeftColumn].Name} - {right[RightColumn].Name} in [{Text(Lower)}, {Text(Upper)}]";

    private static string Text(long micros) =>
        micros % 1_000_000 == 0 ? (micros / 1_000_000).ToString(CultureInfo.InvariantCulture) + "s" : micros.ToString(CultureInfo.InvariantCulture) + "us";
}
