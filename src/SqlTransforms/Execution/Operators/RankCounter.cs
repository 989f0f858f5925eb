using DataPlane.SqlTransforms.Planning;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// The numbers of a partition's rows taken in their order (ORDER BY key, ties by arrival): row_number, rank and
/// dense_rank, and whether a filter on one of them keeps the row. Start a partition with <c>default</c>. The numbers
/// only grow, so once a row is past the limit every later row of its partition is too.
/// </summary>
internal struct RankCounter
{
    public long RowNumber { get; private set; }

    public long Rank { get; private set; }

    public long DenseRank { get; private set; }

    /// <summary>The next row: <paramref name="tied"/> when its ORDER BY key equals the row before's.</summary>
    public void Next(bool tied)
    {
        RowNumber++;
        if (tied && RowNumber > 1) return;
        Rank = RowNumber;
        DenseRank++;
    }

    public readonly long Of(RankFunction function) => function switch
    {
        RankFunction.RowNumber => RowNumber,
        RankFunction.Rank => Rank,
        _ => DenseRank,
    };

    /// <summary>Whether <paramref name="limit"/> (none: every row) keeps the current row.</summary>
    public readonly bool Within(RankLimit? limit) => limit is null || Of(limit.Function) <= limit.Count;
}
