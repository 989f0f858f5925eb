using System.Globalization;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>The window functions: the number a row gets within its partition, in the partition's order.</summary>
internal enum RankFunction { RowNumber, Rank, DenseRank }

/// <summary>
/// What a WindowTopN node computes over its input: the first <see cref="RowWidth"/> input columns are the row, the
/// partition <see cref="Keys"/> and <see cref="Order"/> index input columns, and each function of
/// <see cref="Functions"/> gives one BIGINT output column after the row (and after window_start and window_end when
/// the node assigns the window itself). The window is either assigned from the event time
/// (<see cref="TimeColumn"/>, <c>PARTITION BY tumble(...)</c>) or read from a window_start or window_end column of a
/// windowed aggregation below (<see cref="WindowColumn"/>); with neither (bounded input only) the whole input is one
/// window. <see cref="Limit"/> comes from the filter on a function's column above (rn &lt;= 3), and bounds the rows kept
/// per window and key. <see cref="Position"/> is where the first OVER was written, for errors.
/// </summary>
internal sealed record RankingSpec(int RowWidth, IReadOnlyList<int> Keys, IReadOnlyList<SortKey> Order, IReadOnlyList<RankFunction> Functions, int Position)
{
    public WindowSpec? Window { get; init; }
    /// <summary>The input column of the event time the node assigns windows from (tumble, hop).</summary>
    public int? TimeColumn { get; init; }
    /// <summary>The input column holding each row's window (window_start, or window_end when <see cref="WindowColumnIsEnd"/>).</summary>
    public int? WindowColumn { get; init; }
    public bool WindowColumnIsEnd { get; init; }
    public RankLimit? Limit { get; init; }

    /// <summary>Whether the node adds window_start and window_end to its output.</summary>
    public bool AssignsWindow => TimeColumn is not null;

    public static string Name(RankFunction f) => f switch { RankFunction.RowNumber => "row_number", RankFunction.Rank => "rank", _ => "dense_rank" };

    /// <summary>For EXPLAIN and status pages: <c>tumble(60s) by [window_start, k] order [v DESC] row_number &lt;= 3</c>.</summary>
    public string Describe(IReadOnlyList<PlanColumn> input)
    {
        var b = new System.Text.StringBuilder();
        if (Window is not null) b.Append(Window).Append(' ');
        var keys = Keys.Select(k => input[k].Name);
        if (WindowColumn is { } w) keys = keys.Prepend(input[w].Name);
        b.Append("by [").Append(string.Join(", ", keys)).Append("] order [")
            .Append(string.Join(", ", Order.Select(o => input[o.Column].Name + (o.Descending ? " DESC" : "") + (o.NullsFirst ? " NULLS FIRST" : ""))))
            .Append("] ").Append(string.Join(", ", Functions.Select(Name).Distinct()));
        if (Limit is { } l) b.Append(" (keeps ").Append(Name(l.Function)).Append(" <= ").Append(l.Count.ToString(CultureInfo.InvariantCulture)).Append(')');
        return b.ToString();
    }
}

/// <summary>Rows kept per window and key: those whose <see cref="Function"/> is at most <see cref="Count"/>.</summary>
internal sealed record RankLimit(RankFunction Function, long Count);
