using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>Session state holds what is open, not everything ever seen: emitted sessions' keys and distinct values are let go.</summary>
public sealed class SessionStateBoundsTests
{
    private static readonly Schema Events = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("user", SqlType.Varchar, false),
        ArrowTypes.Field("page", SqlType.Integer, false)], null);

    [Fact]
    public void Keys_and_distinct_values_of_emitted_sessions_are_forgotten()
    {
        const int batches = 200, users = 50;
        var program = SqlProgram.Compile("""
            WATERMARK FOR ts AS ts;
            INSERT INTO out SELECT window_start, user, count(*) AS n, count(DISTINCT page) AS pages FROM events GROUP BY session(INTERVAL '1 second'), user
            """, new Dictionary<string, Schema> { ["events"] = Events }, SqlMode.Streaming);
        long sessions = 0, pages = 0;
        var execution = program.Start((_, b) =>
        {
            sessions += b.Length;
            var counts = Vectors.Values<long>(b.Column(3));
            for (int i = 0; i < b.Length; i++) pages += counts[i];
        }, () => 0);
        var session = (SessionWindowOperator)execution.Stateful.Single();
        var distinct = (DistinctAccumulator)session.Aggregates.Accumulators[1];
        int maxKeys = 0, maxEntries = 0;
        for (int b = 0; b < batches; b++)
        {
            // new users every batch, ten seconds apart: each batch closes the sessions of the one before
            var ts = new object?[users * 2];
            var user = new object?[users * 2];
            var page = new object?[users * 2];
            for (int i = 0; i < users * 2; i++)
            {
                ts[i] = 1_704_067_200_000_000L + b * 10_000_000L + i;
                user[i] = $"user {b}-{i % users}";
                page[i] = i; // two records a user, two pages
            }
            execution.Push("events", new RecordBatch(Events, [ValueArrays.FromValues(SqlType.Timestamp, ts), ValueArrays.FromValues(SqlType.Varchar, user),
                ValueArrays.FromValues(SqlType.Integer, page)], users * 2));
            maxKeys = Math.Max(maxKeys, session.KeyCount);
            maxEntries = Math.Max(maxEntries, distinct.Entries);
        }
        execution.Finish();
        Assert.Equal(batches * users, sessions);
        Assert.Equal(batches * users * 2, pages);
        // 10,000 users and 20,000 distinct (user, page) pairs went through; the state kept at most about a thousand of each
        Assert.InRange(maxKeys, users, 2 * 1024 + 2 * users);
        Assert.InRange(maxEntries, 2 * users, 2 * (1024 + 4 * users));
    }
}
