using Apache.Arrow;
using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Binding;

public sealed class LookupJoinPlanTests
{
    private static Schema Schema(string columns) => new CorpusCase("", columns, [], "", null, null, false, SqlMode.Streaming, [], null).ArrowSchema();

    private static readonly Dictionary<string, Schema> Sources = new() { ["orders"] = Schema("ts TIMESTAMP, customer_id INTEGER, amount INTEGER") };

    private static readonly Dictionary<string, Schema> Tables = new()
    {
        ["analytics.customers"] = Schema("id BIGINT NOT NULL, name VARCHAR"),
        ["db.crm.tiers"] = Schema("name VARCHAR, tier VARCHAR"),
    };

    [Fact]
    public void Explain_shows_each_lookup_join_with_its_keys_and_source()
    {
        const string sql = "INSERT INTO out SELECT o.amount, c.id, t.tier FROM orders o JOIN analytics.customers c ON o.customer_id = c.id "
            + "LEFT JOIN db.crm.tiers t ON t.name = c.name";
        Assert.Equal(["orders"], SqlProgram.SourceNames(sql));
        Assert.Equal(["analytics.customers", "db.crm.tiers"], SqlProgram.LookupNames(sql));
        var program = SqlProgram.Compile(sql, Sources, SqlMode.Streaming, lookups: Tables);
        var plan = program.Statements[0].Explain();
        Assert.Contains("LookupJoin LEFT keys [name = name] table db.crm.tiers (database)", plan);
        Assert.Contains("LookupJoin INNER keys [CAST(customer_id AS BIGINT) = id] table analytics.customers (iceberg)", plan);
        Assert.False(program.Statements[0].IsStateful); // the table is the state: nothing to checkpoint
        var output = program.Statements[0].OutputSchema.FieldsList;
        Assert.False(output[1].IsNullable); // an INNER join keeps the table's NOT NULL
        Assert.True(output[2].IsNullable);
    }
}
