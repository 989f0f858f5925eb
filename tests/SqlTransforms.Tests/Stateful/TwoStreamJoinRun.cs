using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// The two streams the join spill tests run over (<c>l</c>: ts, k, v; <c>r</c>: ts, k, w), their records interleaved
/// into batches, and a run of a join statement over them that may stop, save its state and go on restored.
/// </summary>
internal static class TwoStreamJoinRun
{
    public const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00

    public static readonly IReadOnlyList<(string Name, SqlType Type, bool Nullable)> LeftColumns =
        [("ts", SqlType.Timestamp, true), ("k", SqlType.Varchar, true), ("v", SqlType.Integer, true)];

    public static readonly IReadOnlyList<(string Name, SqlType Type, bool Nullable)> RightColumns =
        [("ts", SqlType.Timestamp, true), ("k", SqlType.Varchar, true), ("w", SqlType.Integer, true)];

    public static readonly Dictionary<string, Schema> Sources = new()
    {
        ["l"] = new Schema(LeftColumns.Select(c => ArrowTypes.Field(c.Name, c.Type, c.Nullable)), null),
        ["r"] = new Schema(RightColumns.Select(c => ArrowTypes.Field(c.Name, c.Type, c.Nullable)), null),
    };

    /// <summary>The two streams' records in batches of 1 to 50, each stream's in order, the streams taken at random.</summary>
    public static List<(string Source, List<object?[]> Rows)> Interleave(List<object?[]> left, List<object?[]> right, Random random)
    {
        var batches = new List<(string, List<object?[]>)>();
        int a = 0, b = 0;
        while (a < left.Count || b < right.Count)
        {
            bool fromLeft = b == right.Count || (a < left.Count && random.Next(2) == 0);
            var records = fromLeft ? left : right;
            int at = fromLeft ? a : b;
            int size = Math.Min(records.Count - at, random.Next(1, 51));
            batches.Add((fromLeft ? "l" : "r", records.GetRange(at, size)));
            if (fromLeft) a += size; else b += size;
        }
        return batches;
    }

    /// <summary>Runs the statement over the batches; at <paramref name="cut"/> (where rows must be on disk, under
    /// <paramref name="spill"/>), saves the state, drops the execution (and what it spilled) and goes on in a new one
    /// restored with <paramref name="restoreWith"/>, the shards in streams of their own with <paramref name="apart"/>,
    /// read last first.</summary>
    public static (List<string> Rows, StateMemoryUse Use) Run(string sql, List<(string Source, List<object?[]> Rows)> batches, StateOptions options,
        string spill, int cut = -1, StateOptions? restoreWith = null, bool apart = false)
    {
        var program = SqlProgram.Compile(sql, Sources, SqlMode.Streaming);
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var execution = program.Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => Start, options);
        int runs = 0;
        for (int i = 0; i < batches.Count; i++)
        {
            if (i == cut)
            {
                Assert.NotEmpty(Directory.EnumerateFiles(spill, "*", SearchOption.AllDirectories));
                runs += execution.StateMemoryUse.RunsSpilled;
                var state = new MemoryStream();
                var shards = new List<MemoryStream>();
                if (apart)
                {
                    for (int s = 0; s < execution.StateShards; s++)
                    {
                        shards.Add(new MemoryStream());
                        execution.SaveShard(s, shards[s]);
                    }
                    execution.SaveStateApart(state);
                }
                else
                    execution.SaveState(state);
                execution.Dispose();
                state.Position = 0;
                execution = SqlProgram.Compile(sql, Sources, SqlMode.Streaming).Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => Start, restoreWith);
                Assert.Equal(shards.Count, execution.RestoreState(state));
                foreach (var shard in Enumerable.Reverse(shards))
                {
                    shard.Position = 0;
                    execution.RestoreShard(shard);
                }
            }
            var (source, batchRows) = batches[i];
            var columns = source == "l" ? LeftColumns : RightColumns;
            var arrays = columns.Select((c, j) => ValueArrays.FromValues(c.Type, batchRows.Select(r => r[j]).ToList())).ToArray();
            execution.Push(source, new RecordBatch(Sources[source], arrays, batchRows.Count), 0);
        }
        execution.Finish();
        var use = execution.StateMemoryUse;
        return (rows, use with { RunsSpilled = use.RunsSpilled + runs });
    }
}
