using Apache.Arrow;
using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.EventTime;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.Functions;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms;

/// <summary>
/// The engine's entry point: SQL text and the schemas of its sources in, compiled statements out
/// (parse -> bind -> optimise); <see cref="Start"/> builds a running instance of every statement's operators.
/// A pipeline compiles once when it is created (a <see cref="SqlException"/> is the 400 answer) and starts an
/// execution per run; the CLI runs a bounded execution over a file.
/// </summary>
public sealed class SqlProgram
{
    private readonly IReadOnlyDictionary<string, Schema> _sources;

    private SqlProgram(string sql, IReadOnlyList<SqlStatementPlan> statements, IReadOnlyDictionary<string, Schema> sources, SqlMode mode,
        IReadOnlyDictionary<string, WatermarkDefinition> watermarks)
    {
        Watermarks = watermarks;
        Sql = sql;
        Statements = statements;
        _sources = sources;
        Mode = mode;
    }

    public string Sql { get; }
    public SqlMode Mode { get; }
    public IReadOnlyList<SqlStatementPlan> Statements { get; }
    /// <summary>Each source's event time and watermark (given, or declared by WATERMARK FOR); windows over other sources use processing time.</summary>
    public IReadOnlyDictionary<string, WatermarkDefinition> Watermarks { get; }

    /// <summary>
    /// Compiles every statement; a <see cref="SqlException"/> with line, column and caret when one is not valid.
    /// <paramref name="watermarks"/>: the sources' event times from outside the SQL (an <see cref="ArgumentException"/> when one does not fit its source).
    /// </summary>
    /// <paramref name="lookups"/>: the schemas of the tables lookup joins read, by qualified name (<see cref="LookupNames"/>).
    public static SqlProgram Compile(string sql, IReadOnlyDictionary<string, Schema> sources, SqlMode mode, IReadOnlyDictionary<string, WatermarkDefinition>? watermarks = null,
        IReadOnlyDictionary<string, Schema>? lookups = null)
    {
        var statements = Parser.Parse(sql);
        var eventTimes = WatermarkDeclarations.Resolve(sql, statements, sources, watermarks);
        var columns = Columns(sql, sources, "source");
        var binder = new Binder(sql, columns, FunctionRegistry.Default, mode == SqlMode.Streaming)
        {
            EventTimeColumns = eventTimes.ToDictionary(w => w.Key, w => w.Value.Column),
            LookupTables = Columns(sql, lookups ?? new Dictionary<string, Schema>(), "table"),
        };
        var plans = new List<SqlStatementPlan>();
        var sinks = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        try
        {
            foreach (var statement in statements)
            {
                switch (statement)
                {
                    case SqlStatement.Insert insert:
                    {
                        if (!sinks.Add(insert.Sink.Text))
                            throw new SqlException($"two statements write the sink \"{insert.Sink.Text}\"; a sink takes one INSERT INTO", SourcePosition.At(sql, insert.Sink.Position), sql);
                        var plan = Optimizer.Optimize(binder.BindStatement(insert.Body));
                        var duplicate = plan.Columns.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
                        if (duplicate is not null)
                            throw new SqlException($"the SELECT list names \"{duplicate.Key}\" twice; give each output column its own name (AS ...)", SourcePosition.At(sql, insert.Body.Start), sql);
                        var keys = UpdatingKeys.Find(plan, out var problem);
                        if (problem is not null)
                            throw new SqlException(problem, SourcePosition.At(sql, insert.Body.Start), sql);
                        plans.Add(new SqlStatementPlan(insert.Sink.Text, plan, SelectsAll(insert.Body), keys));
                        break;
                    }
                    case SqlStatement.Select select:
                        if (mode == SqlMode.Streaming)
                            throw new SqlException("a pipeline's statements are INSERT INTO <sink> SELECT ...; a plain SELECT has nowhere to go", SourcePosition.At(sql, select.Start), sql);
                        plans.Add(new SqlStatementPlan(null, Optimizer.Optimize(binder.BindStatement(select.Body)), SelectsAll(select.Body)));
                        break;
                    case SqlStatement.Watermark:
                        break;
                }
            }
        }
        catch (InsufficientExecutionStackException)
        {
            throw new SqlException("the statement is nested too deeply to compile", SourcePosition.At(sql, 0), sql);
        }
        if (plans.Count == 0)
            throw new SqlException("the SQL text declares watermarks but has no statement to run (INSERT INTO <sink> SELECT ... or SELECT ...)", SourcePosition.At(sql, 0), sql);
        return new SqlProgram(sql, plans, sources, mode, eventTimes);
    }

    private static Dictionary<string, IReadOnlyList<PlanColumn>> Columns(string sql, IReadOnlyDictionary<string, Schema> schemas, string what)
    {
        var columns = new Dictionary<string, IReadOnlyList<PlanColumn>>(StringComparer.Ordinal);
        foreach (var (name, schema) in schemas)
        {
            var list = new List<PlanColumn>();
            foreach (var field in schema.FieldsList)
            {
                var type = ArrowTypes.FromArrow(field, out var problem)
                    ?? throw new SqlException($"{what} \"{name}\": {problem}", SourcePosition.At(sql, 0), sql);
                list.Add(new PlanColumn(field.Name, type, field.IsNullable));
            }
            columns[name] = list;
        }
        return columns;
    }

    /// <summary>
    /// The names the statements of <paramref name="sql"/> read in FROM (streams, or the CLI's input), each once, in the
    /// order they first appear; WITH queries' own names are not among them. Lets a caller find the schemas to compile
    /// with (a pipeline looks its stream up by this name). A <see cref="SqlException"/> when the text does not parse.
    /// </summary>
    public static IReadOnlyList<string> SourceNames(string sql) => Names(sql, lookups: false);

    /// <summary>
    /// The tables the statements of <paramref name="sql"/> look up (qualified names in FROM: <c>namespace.table</c>,
    /// <c>db.name.table</c>), each once, in the order they first appear: the host loads their schemas to compile with.
    /// </summary>
    public static IReadOnlyList<string> LookupNames(string sql) => Names(sql, lookups: true);

    /// <summary>Whether a lookup table's name (<see cref="LookupNames"/>) is a DataPlane database's table, <c>db.&lt;database&gt;.&lt;table&gt;</c>, rather than a catalog's.</summary>
    public static bool IsDatabaseTable(string qualifiedName) => LookupSpec.IsDatabase(qualifiedName);

    private static IReadOnlyList<string> Names(string sql, bool lookups)
    {
        var names = new List<string>();
        var ctes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<QueryExpression>();
        foreach (var statement in Parser.Parse(sql))
        {
            if (statement is SqlStatement.Insert i) pending.Push(i.Body);
            else if (statement is SqlStatement.Select s) pending.Push(s.Body);
            // WATERMARK FOR [stream.]ts names a stream the queries read too (or none: it is not a source by itself).
        }
        // A loop over an explicit stack: the parser bounds the nesting, but no recursion is needed here at all.
        var found = new List<SqlName>();
        while (pending.TryPop(out var query))
        {
            switch (query)
            {
                case QueryExpression.Query q:
                    foreach (var cte in q.With) { ctes.Add(cte.Name.Text); pending.Push(cte.Query); }
                    pending.Push(q.Body);
                    break;
                case QueryExpression.UnionAll u:
                    foreach (var input in u.Inputs) pending.Push(input);
                    break;
                case QueryExpression.Select { From: { } from }:
                    // a join reads both its sides (a chain of joins nests to the left)
                    var tables = new Stack<TableReference>([from]);
                    while (tables.TryPop(out var table))
                    {
                        if (table is TableReference.Named n && n.Qualifiers.Count > 0 == lookups)
                            found.Add(lookups ? n.Name with { Text = n.QualifiedName, Position = n.Start } : n.Name);
                        else if (table is TableReference.Subquery sub) pending.Push(sub.Query);
                        else if (table is JoinedTables join) { tables.Push(join.Right); tables.Push(join.Left); }
                    }
                    break;
            }
        }
        foreach (var name in found.OrderBy(n => n.Position))
            if ((lookups || !ctes.Contains(name.Text)) && !names.Contains(name.Text, StringComparer.Ordinal))
                names.Add(name.Text);
        return names;
    }

    /// <summary><c>SELECT * FROM source [WHERE ...]</c>: the output is the source's records as they are (a schemaless stream's JSON text).</summary>
    private static bool SelectsAll(QueryExpression body) =>
        body is QueryExpression.Select { Distinct: false, Items: [{ Expression: SqlExpression.Star { Qualifier: null }, Alias: null }], From: TableReference.Named, GroupBy.Count: 0, Having: null };

    /// <summary>
    /// A running instance of one statement's operators alone (<paramref name="statement"/> indexes
    /// <see cref="Statements"/>): a pipeline runs each of its sinks' statements on its own, as far as that sink needs.
    /// </summary>
    /// <param name="state">How keyed state is sharded and bounded (default: one shard, all in memory).</param>
    /// <param name="lookupRows">A lookup table's rows by its qualified name (columns as compiled), as the host last loaded
    /// them: each batch is matched against the rows it answers then, a new instance meaning new rows.</param>
    /// <param name="errors">Where the records it fails on are counted: a log of its own when null; another execution's of the
    /// same statement for executions that split one input (a keyed topic's partitions) and count together.</param>
    public SqlExecution Start(int statement, Action<RecordBatch> output, Func<long>? clock = null, StateOptions? state = null, Func<string, RecordBatch>? lookupRows = null,
        RowErrorLog? errors = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(statement);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(statement, Statements.Count);
        return Build([statement], (_, batch) => output(batch), clock, state, lookupRows, errors);
    }

    /// <summary>
    /// A running instance: every statement's operators, compiled once. <paramref name="output"/> receives each
    /// statement's result batches (by statement index); <paramref name="clock"/> gives now() in microseconds since the epoch.
    /// </summary>
    public SqlExecution Start(Action<int, RecordBatch> output, Func<long>? clock = null, StateOptions? state = null, Func<string, RecordBatch>? lookupRows = null) =>
        Build(Enumerable.Range(0, Statements.Count), output, clock, state, lookupRows);

    private SqlExecution Build(IEnumerable<int> statements, Action<int, RecordBatch> output, Func<long>? clock, StateOptions? state, Func<string, RecordBatch>? lookupRows,
        RowErrorLog? errors = null)
    {
        clock ??= () => (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        var log = errors ?? new RowErrorLog();
        var memory = new StateMemory(state ?? StateOptions.InMemory);
        var planner = new PhysicalPlanner(log, clock, _sources.ToDictionary(s => s.Key, s => s.Value.FieldsList.Count)) { State = memory, LookupRows = lookupRows };
        int finished = 0;
        foreach (int i in statements)
        {
            int statement = i;
            planner.Build(Statements[i].Plan, new OutputOperator(batch => output(statement, batch), () => finished++));
        }
        var trackers = _sources.ToDictionary(s => s.Key, s => Watermarks.TryGetValue(s.Key, out var w)
            ? WatermarkTracker.ForColumn(s.Value.FieldsList.ToList().FindIndex(f => f.Name == w.Column), w)
            : WatermarkTracker.ProcessingTime());
        return new SqlExecution(planner.Scans, planner.OneRows, log, _sources) { Clock = clock, Trackers = trackers, Stateful = planner.Stateful, Statistics = planner.Statistics, State = memory, Updating = planner.Updating };
    }

    /// <summary>Runs every statement over bounded input (all batches of each source) and returns each statement's result batches.</summary>
    public IReadOnlyList<IReadOnlyList<RecordBatch>> Run(IReadOnlyDictionary<string, IReadOnlyList<RecordBatch>> input, out RowErrorLog errors, Func<long>? clock = null,
        Func<string, RecordBatch>? lookupRows = null)
    {
        var results = Statements.Select(_ => new List<RecordBatch>()).ToArray();
        var execution = Start((i, batch) => results[i].Add(batch), clock, lookupRows: lookupRows);
        foreach (var (source, batches) in input)
            foreach (var batch in batches)
                execution.Push(source, batch);
        execution.Finish();
        errors = execution.Errors;
        return results;
    }
}
