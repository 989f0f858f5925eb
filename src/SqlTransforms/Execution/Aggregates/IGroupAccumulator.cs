using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// The state of one aggregate for many groups at once: <see cref="Update"/> folds a batch's values into the groups
/// its rows belong to (group ids from the hash table; a negative id skips the row, which is how FILTER and the rows
/// of other windows are left out), <see cref="Result(ReadOnlySpan{int})"/> gives one value per chosen group.
/// Windowed aggregation merges groups (the panes of a hop window, sessions that meet), clears them for reuse, and
/// writes and reads the state of every group for checkpoints.
/// </summary>
internal interface IGroupAccumulator
{
    /// <param name="input">The argument column, or null for count(*).</param>
    /// <param name="groups">The group of each row; negative to skip the row.</param>
    /// <param name="groupCount">Groups known so far (the state grows to hold them).</param>
    void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount);

    IArrowArray Result(int groupCount)
    {
        var all = new int[groupCount];
        for (int i = 0; i < all.Length; i++) all[i] = i;
        return Result(all);
    }

    /// <summary>One value per group of <paramref name="groups"/>, in that order.</summary>
    IArrowArray Result(ReadOnlySpan<int> groups);

    /// <summary>Folds group <paramref name="from"/> of <paramref name="source"/> (the same aggregate, or this one) into group <paramref name="to"/>.</summary>
    void Merge(IGroupAccumulator source, int from, int to);

    /// <summary>Empties a group, so its id can be reused.</summary>
    void Clear(int group);

    void Write(BinaryWriter writer, int groupCount);

    void Read(BinaryReader reader, int groupCount);
}

/// <summary>Growing per-group arrays by doubling, so a batch of new groups costs no more than one resize.</summary>
internal static class GroupArrays
{
    public static void Grow<T>(ref T[] array, int groups)
    {
        if (array.Length < groups) Array.Resize(ref array, Math.Max(groups, Math.Max(16, array.Length * 2)));
    }
}
