using System.Globalization;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Functions;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Binding;

internal sealed partial class Binder
{
    private BoundExpression BindCondition(SqlExpression e, Scope scope, string clause, AggregateContext? aggregate = null)
    {
        if (aggregate is null && ContainsAggregate(e))
            throw Error(Walk(e).First(x => x is SqlExpression.FunctionCall f && _functions.Aggregate(f.Name.Text) is not null).Start, $"aggregate functions are not allowed in {clause}");
        if (ContainsUnnest(e))
            throw Error(e.Start, $"UNNEST is not allowed in {clause}; unnest in a subquery's select list and filter outside it");
        var bound = Bind(e, scope, aggregate);
        if (bound.Type.Kind is not (SqlTypeKind.Boolean or SqlTypeKind.Null))
            throw Error(e.Start, $"{clause} needs a BOOLEAN condition, but this is {bound.Type}");
        return bound;
    }

    private (LogicalPlan, List<BoundExpression>) BindAggregate(QueryExpression.Select s, LogicalPlan input, Scope scope, List<(SqlExpression Expression, string Name, int Position)> items)
    {
        var context = new AggregateContext { Input = scope };
        var keyNames = new List<string>();
        Windows.WindowSpec? window = null;
        foreach (var key in s.GroupBy)
        {
            if (WindowCall(key, items, scope) is not { } call) continue;
            if (window is not null) throw Error(key.Start, "GROUP BY takes one window (tumble, hop or session)");
            var time = EventTime(s, scope, call);
            window = BindWindow(call, time);
            // window_start and window_end are the first two keys (both read the event time; the operator computes them)
            context.Keys.Add(time); context.KeyTexts.Add("window_start"); context.Arguments.Add(time); keyNames.Add("window_start");
            context.Keys.Add(time); context.KeyTexts.Add("window_end"); context.Arguments.Add(time); keyNames.Add("window_end");
        }
        context.KeysNotNull = window is null && _streaming;
        foreach (var key in s.GroupBy)
        {
            if (window is not null && WindowCall(key, items, scope) is not null) continue;
            var e = key;
            if (key is SqlExpression.Literal { Kind: LiteralKind.Integer } ordinal)
            {
                if (!int.TryParse(ordinal.Text, CultureInfo.InvariantCulture, out int n) || n < 1 || n > items.Count)
                    throw Error(key.Start, $"GROUP BY {ordinal.Text} is not a position in the select list, which has {items.Count} items");
                e = items[n - 1].Expression;
            }
            else if (key is SqlExpression.ColumnRef { Parts.Count: 1 } c && !scope.Columns.Any(x => c.Parts[0].Matches(x.Name))
                     && items.FirstOrDefault(i => c.Parts[0].Matches(i.Name)) is { Expression: not null } alias)
                e = alias.Expression;
            if (ContainsAggregate(e)) throw Error(key.Start, "aggregate functions are not allowed in GROUP BY");
            if (ContainsUnnest(e)) throw Error(key.Start, "UNNEST is not allowed in GROUP BY");
            var bound = Bind(e, scope);
            if (window is not null && !Execution.Aggregates.KeyCodec.Supports(bound.Type))
                throw Error(key.Start, $"a windowed GROUP BY key cannot be a {bound.Type}; group by its fields or elements");
            // An updating aggregate's keys identify the sink table's rows: Iceberg's identifier fields are required primitives, not floating point.
            if (window is null && _streaming && (!Execution.Aggregates.KeyCodec.Supports(bound.Type) || bound.Type.Kind is SqlTypeKind.Real or SqlTypeKind.Double or SqlTypeKind.Interval))
                throw Error(key.Start, $"a GROUP BY key of an updating aggregate (no window) cannot be a {bound.Type}: the keys identify the sink table's rows (Iceberg identifier fields are primitive, and not REAL or DOUBLE); CAST it or group by its fields");
            context.Keys.Add(bound);
            context.KeyTexts.Add(Normalized(e));
            context.Arguments.Add(bound);
            keyNames.Add(DefaultName(key));
        }
        var outputs = items.Select(i => Bind(i.Expression, scope, context)).ToList();
        BoundExpression? having = s.Having is null ? null : BindCondition(s.Having, scope, "HAVING", context);
        var preColumns = context.Arguments.Select((a, i) => new PlanColumn("#" + i, a.Type, a.Nullable)).ToList();
        var pre = new LogicalPlan.Project(input, context.Arguments, preColumns);
        // An updating aggregate drops records with a NULL key (its sink's identifier columns are required), so its keys are never NULL.
        bool updating = context.KeysNotNull;
        var keyColumns = context.Keys.Select((k, i) => new PlanColumn(i < keyNames.Count ? keyNames[i] : "#" + i, k.Type, (window is not null && i < 2) || updating ? false : k.Nullable));
        int first = window is null ? 0 : 2;
        LogicalPlan plan = new LogicalPlan.Aggregate(pre, Enumerable.Range(first, context.Keys.Count - first).ToList(), context.Calls, keyColumns.Concat(context.CallColumns).ToList())
        {
            Window = window,
            Updating = updating,
        };
        if (having is not null) plan = new LogicalPlan.Filter(plan, having);
        return (plan, outputs);
    }

    /// <summary>Binds an expression; in a grouped query (<paramref name="aggregate"/>) over the Aggregate's output, with UNNEST (<paramref name="unnest"/>) over the unnested columns.</summary>
    private BoundExpression Bind(SqlExpression e, Scope scope, AggregateContext? aggregate = null, UnnestContext? unnest = null)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        if (aggregate is not null)
        {
            int key = aggregate.KeyTexts.IndexOf(Normalized(e));
            if (key >= 0 && e is not SqlExpression.Literal)
                return new BoundExpression.Column(key, "#" + key, aggregate.Keys[key].Type, aggregate.Keys[key].Nullable && !aggregate.KeysNotNull);
        }
        var bound = BindNode(e, scope, aggregate, unnest);
        return ConstantFolding.Fold(bound);
    }

    private BoundExpression BindNode(SqlExpression e, Scope scope, AggregateContext? aggregate, UnnestContext? unnest)
    {
        BoundExpression Sub(SqlExpression x) => Bind(x, scope, aggregate, unnest);
        switch (e)
        {
            case SqlExpression.Literal l: return Literal(l);
            case SqlExpression.IntervalLiteral i:
                if (!ValueText.TryParseInterval(i.Text, i.Unit, out var interval))
                    throw Error(i.Start, $"'{i.Text}'{(i.Unit is null ? "" : " " + i.Unit)} is not an interval; write e.g. INTERVAL '5 minutes', INTERVAL '1 day 02:00:00' or INTERVAL '5' MINUTE");
                return new BoundExpression.Literal(interval, SqlType.Interval);
            case SqlExpression.TypedLiteral t:
            {
                var type = TypeNames.Resolve(t.Type, out var problem) ?? throw Error(t.Start, problem!);
                return CoerceLiteral(new BoundExpression.Literal(t.Text, SqlType.Varchar), type, t.Start);
            }
            case SqlExpression.ColumnRef c: return Column(c, scope, aggregate);
            case SqlExpression.Star s: throw Error(s.Start, "* is only allowed in a select list and in count(*)");
            case SqlExpression.Unary u:
            {
                var operand = Sub(u.Operand);
                if (u.Operator == "+")
                {
                    if (!operand.Type.IsNumeric && operand.Type.Kind != SqlTypeKind.Null) throw Error(u.Start, $"unary + needs a number, not {operand.Type}");
                    return operand;
                }
                // a sign on an integer literal keeps it a literal (DuckDB folds it so): -(-65536) is the literal 65536
                if (operand is BoundExpression.Literal { IsIntegerLiteral: true, Value: { } v } && (v is int || (long)v != long.MinValue))
                {
                    long negated = -(v is int iv ? iv : (long)v);
                    return negated is >= -int.MaxValue and <= int.MaxValue
                        ? new BoundExpression.Literal((int)negated, SqlType.Integer) { IsIntegerLiteral = true }
                        : new BoundExpression.Literal(negated, SqlType.BigInt) { IsIntegerLiteral = true };
                }
                return Call("negate", [operand], [u.Operand], u.Start, "-");
            }
            case SqlExpression.Binary b:
            {
                var left = Sub(b.Left);
                var right = Sub(b.Right);
                // DataFusion's JSON operators: -> is json_get, ->> is json_as_text
                if (b.Operator is "->" or "->>")
                    return Call(b.Operator == "->" ? "json_get" : "json_as_text", [left, right], [b.Left, b.Right], b.OperatorPosition, b.Operator);
                if (b.Operator == "||")
                {
                    left = ToText(left, b.Left);
                    right = ToText(right, b.Right);
                }
                return Call(b.Operator, [left, right], [b.Left, b.Right], b.OperatorPosition, b.Operator);
            }
            case SqlExpression.And a: return Logic(a.Terms.Select(t => Condition(t, Sub(t))).ToList(), true);
            case SqlExpression.Or o: return Logic(o.Terms.Select(t => Condition(t, Sub(t))).ToList(), false);
            case SqlExpression.Not n: return new BoundExpression.Not(Condition(n.Operand, Sub(n.Operand)));
            case SqlExpression.IsNull n: return new BoundExpression.IsNull(Sub(n.Operand), n.Negated);
            case SqlExpression.IsBoolean ib:
                return new BoundExpression.IsDistinct(Condition(ib.Operand, Sub(ib.Operand)), new BoundExpression.Literal(ib.Value, SqlType.Boolean), !ib.Negated);
            case SqlExpression.IsDistinctFrom d:
            {
                var (l, r) = Comparable(Sub(d.Left), Sub(d.Right), d.Left, d.Right, d.Start, "IS DISTINCT FROM");
                return new BoundExpression.IsDistinct(l, r, d.Negated);
            }
            case SqlExpression.Between b:
            {
                var operand = Sub(b.Operand);
                var low = Call(">=", [operand, Sub(b.Low)], [b.Operand, b.Low], b.Start, "BETWEEN");
                var high = Call("<=", [operand, Sub(b.High)], [b.Operand, b.High], b.Start, "BETWEEN");
                BoundExpression between = Logic([low, high], true);
                return b.Negated ? new BoundExpression.Not(between) : between;
            }
            case SqlExpression.InList i:
            {
                var operand = Sub(i.Operand);
                var tests = i.Items.Select(item => Call("=", [operand, Sub(item)], [i.Operand, item], item.Start, "IN")).ToList();
                BoundExpression any = Logic(tests, false);
                return i.Negated ? new BoundExpression.Not(any) : any;
            }
            case SqlExpression.Like l:
            {
                if (l.Similar)
                {
                    // DuckDB's SIMILAR TO: the pattern is a regular expression that must match the whole string
                    if (l.Escape is not null) throw Error(l.Escape.Start, "SIMILAR TO takes no ESCAPE; its pattern is a regular expression, where \\ escapes");
                    var match = Call("regexp_full_match", [Sub(l.Operand), Sub(l.Pattern)], [l.Operand, l.Pattern], l.Start, "SIMILAR TO");
                    return l.Negated ? new BoundExpression.Not(match) : match;
                }
                var args = new List<BoundExpression> { Sub(l.Operand), Sub(l.Pattern) };
                var syntax = new List<SqlExpression> { l.Operand, l.Pattern };
                if (l.Escape is not null) { args.Add(Sub(l.Escape)); syntax.Add(l.Escape); }
                var like = Call(l.CaseInsensitive ? "ilike" : "like", args, syntax, l.Start, l.CaseInsensitive ? "ILIKE" : "LIKE");
                return l.Negated ? new BoundExpression.Not(like) : like;
            }
            case SqlExpression.Case c:
            {
                BoundExpression? operand = c.Operand is null ? null : Sub(c.Operand);
                var whens = c.Whens.Select(w => operand is null
                    ? Condition(w.When, Sub(w.When))
                    : Call("=", [operand, Sub(w.When)], [c.Operand!, w.When], w.When.Start, "CASE")).ToList();
                var thens = c.Whens.Select(w => Sub(w.Then)).ToList();
                var otherwise = c.Else is null ? new BoundExpression.Literal(null, SqlType.Null) : Sub(c.Else);
                var type = TypeCoercion.Common(thens.Append(otherwise).Select(t => t.Type))
                    ?? throw Error(c.Start, $"the branches of CASE have types {string.Join(", ", thens.Append(otherwise).Select(t => t.Type).Distinct())}, which have no common type; CAST them to one");
                var pairs = whens.Select((w, i) => (w, Coerce(thens[i], type, c.Whens[i].Then.Start))).ToList();
                var elseBranch = Coerce(otherwise, type, c.Else?.Start ?? c.Start);
                return new BoundExpression.Case(pairs, elseBranch, type, pairs.Any(p => p.Item2.Nullable) || elseBranch.Nullable);
            }
            case SqlExpression.Cast c:
            {
                var operand = Sub(c.Operand);
                var type = TypeNames.Resolve(c.Type, out var problem) ?? throw Error(c.Type.Position, problem!);
                // DataFusion's rewrite: json_get(j, 'a')::BIGINT reads the value as json_get_int does, not its JSON text
                if (operand is BoundExpression.Call json && JsonFunctions.IsJsonGet(json) && JsonFunctions.TypedGetter(type) is { } getter)
                {
                    var typed = Call(getter, [.. json.Arguments], [], c.Start, getter);
                    return typed.Type == type ? typed : new BoundExpression.Cast(typed, type, c.Try);
                }
                if (!CastFunctions.CanCast(operand.Type, type))
                    throw Error(c.Start, $"CAST from {operand.Type} to {type} is not supported");
                if (operand is BoundExpression.Literal { Value: not null } literal && !c.Try)
                    return CoerceLiteral(literal, type, c.Operand.Start);
                return new BoundExpression.Cast(operand, type, c.Try);
            }
            case SqlExpression.FunctionCall f: return Function(f, scope, aggregate, unnest);
            case SqlExpression.FieldAccess fa: return Field(Sub(fa.Operand), fa.Field);
            case SqlExpression.Index ix:
            {
                var list = Sub(ix.Operand);
                if (list.Type.Kind != SqlTypeKind.List)
                    throw Error(ix.Start, list.Type.Kind == SqlTypeKind.Map ? "map access m[key] is not supported yet" : $"[ ] indexes lists; this is {list.Type}");
                var position = Coerce(Sub(ix.Position), SqlType.BigInt, ix.Position.Start);
                return new BoundExpression.ListIndex(list, position, list.Type.Element!);
            }
            case SqlExpression.ListValue lv:
            {
                var values = lv.Items.Select(Sub).ToList();
                var element = values.Count == 0 ? SqlType.Integer : TypeCoercion.Common(values.Select(v => v.Type))
                    ?? throw Error(lv.Start, $"the items of a list have types {string.Join(", ", values.Select(v => v.Type).Distinct())}, which have no common type");
                if (element.Kind == SqlTypeKind.Null) element = SqlType.Integer;
                return new BoundExpression.MakeList(values.Select((v, i) => Coerce(v, element, lv.Items[i].Start)).ToList(), SqlType.List(element));
            }
            case SqlExpression.StructValue sv:
                return Struct(sv.Fields.Select(f => (f.Name, Sub(f.Value), sv.Start)).ToList(), sv.Start);
        }
        throw Error(e.Start, $"{e.GetType().Name} is not supported here");
    }

    /// <summary>A struct of named values (<c>{'a': 1}</c>, struct_pack, named_struct); a NULL value makes an INTEGER field.</summary>
    private BoundExpression Struct(List<(string Name, BoundExpression Value, int Position)> items, int start)
    {
        var fields = items.Select(f => new StructField(f.Name, f.Value.Type.Kind == SqlTypeKind.Null ? SqlType.Integer : f.Value.Type)).ToList();
        for (int i = 1; i < items.Count; i++)
            if (items.Take(i).Any(f => string.Equals(f.Name, items[i].Name, StringComparison.OrdinalIgnoreCase)))
                throw Error(items[i].Position, $"a struct names the field \"{items[i].Name}\" twice");
        return new BoundExpression.MakeStruct(items.Select((f, i) => Coerce(f.Value, fields[i].Type, f.Position)).ToList(), SqlType.Struct(fields));
    }

    /// <summary>
    /// struct_pack(a := x, b) (DuckDB's: a field named by its argument's name, or by the column it reads) and
    /// named_struct('a', x, 'b', y) (Spark's and DataFusion's: constant names and values in pairs).
    /// </summary>
    private BoundExpression StructPack(SqlExpression.FunctionCall f, Func<SqlExpression, BoundExpression> bind)
    {
        string name = f.Name.Text.ToLowerInvariant();
        if (f.IsStar || f.Distinct || f.Filter is not null) throw Error(f.Start, $"{name} takes values, not *, DISTINCT or FILTER");
        var items = new List<(string, BoundExpression, int)>();
        if (name == "named_struct")
        {
            if (f.Arguments.Count == 0 || f.Arguments.Count % 2 != 0)
                throw Error(f.Start, "named_struct takes pairs of a field name and its value: named_struct('a', 1, 'b', x)");
            for (int i = 0; i < f.Arguments.Count; i += 2)
            {
                if (f.Arguments[i] is not SqlExpression.Literal { Kind: LiteralKind.String } key)
                    throw Error(f.Arguments[i].Start, "a field name of named_struct is a string constant: named_struct('a', 1)");
                items.Add((key.Text, bind(f.Arguments[i + 1]), f.Arguments[i + 1].Start));
            }
        }
        else
        {
            if (f.Arguments.Count == 0) throw Error(f.Start, "struct_pack takes at least one field: struct_pack(a := 1)");
            for (int i = 0; i < f.Arguments.Count; i++)
            {
                var argument = f.Arguments[i];
                string field = f.ArgumentNames?[i]?.Text ?? (argument is SqlExpression.ColumnRef c ? c.Parts[^1].Text
                    : throw Error(argument.Start, "this field of struct_pack needs a name: struct_pack(name := value)"));
                items.Add((field, bind(argument), f.ArgumentNames?[i]?.Position ?? argument.Start));
            }
        }
        return Struct(items, f.Start);
    }

    private BoundExpression Literal(SqlExpression.Literal l)
    {
        switch (l.Kind)
        {
            case LiteralKind.Null: return new BoundExpression.Literal(null, SqlType.Null);
            case LiteralKind.Boolean: return new BoundExpression.Literal(l.Text == "true", SqlType.Boolean);
            case LiteralKind.String: return new BoundExpression.Literal(l.Text, SqlType.Varchar) { IsStringLiteral = true };
            case LiteralKind.Integer:
                // typed by magnitude as DuckDB does (-2147483648 is a BIGINT because 2147483648 is); an integer literal
                // still converts to INTEGER where its value fits (see ScalarFunction.ConversionCost)
                if (int.TryParse(l.Text.TrimStart('-'), NumberStyles.None, CultureInfo.InvariantCulture, out _)
                    && int.TryParse(l.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i)) return new BoundExpression.Literal(i, SqlType.Integer) { IsIntegerLiteral = true };
                if (long.TryParse(l.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long g)) return new BoundExpression.Literal(g, SqlType.BigInt) { IsIntegerLiteral = true };
                goto default;
            default:
                if (double.TryParse(l.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
                    return new BoundExpression.Literal(d, SqlType.Double);
                throw Error(l.Start, $"{l.Text} is out of range for a DOUBLE");
        }
    }

    private BoundExpression Column(SqlExpression.ColumnRef c, Scope scope, AggregateContext? aggregate)
    {
        var lookIn = aggregate?.Input ?? scope;
        // a.b.c: a qualifier and a column, then fields; or a column, then fields
        int index = -1, consumed = 0;
        if (c.Parts.Count > 1)
        {
            var matches = Matches(lookIn, c.Parts[1], c.Parts[0]);
            if (matches.Count == 1) { index = matches[0]; consumed = 2; }
        }
        if (index < 0)
        {
            var matches = Matches(lookIn, c.Parts[0], null);
            if (matches.Count > 1)
                throw Error(c.Start, $"column name \"{c.Parts[0].Text}\" is ambiguous: it could be {string.Join(" or ", matches.Select(m => (lookIn.Columns[m].Qualifier is { } q ? q + "." : "") + lookIn.Columns[m].Name))}; qualify it");
            // current_date and current_timestamp are SQL's functions without parentheses (a column of that name wins)
            if (matches.Count == 0 && c.Parts.Count == 1 && !c.Parts[0].Quoted && c.Parts[0].Text.ToLowerInvariant() is "current_date" or "current_timestamp")
                return Call(c.Parts[0].Text.ToLowerInvariant(), [], [], c.Parts[0].Position, c.Parts[0].Text);
            if (matches.Count == 0 && c.Parts.Count > 1 && lookIn.Columns.Where(x => x.Qualifier is { } q && c.Parts[0].Matches(q)).Select(x => x.Name).ToList() is { Count: > 0 } qualified)
                throw Error(c.Parts[1].Position, $"there is no column \"{c.Parts[1].Text}\" in {c.Parts[0].Text}" + NearestNames.Suggest(c.Parts[1].Text, qualified)
                    + (qualified.Count <= 30 ? $" (columns: {string.Join(", ", qualified)})" : ""));
            if (matches.Count == 0)
            {
                var names = lookIn.Columns.Select(x => x.Name).ToList();
                string where = lookIn.Columns.Count == 0 ? " (the query has no FROM)" : names.Count <= 30 ? $" (columns: {string.Join(", ", names)})" : "";
                throw Error(c.Parts[0].Position, $"there is no column \"{c.Parts[0].Text}\"" + NearestNames.Suggest(c.Parts[0].Text, names) + where);
            }
            index = matches[0];
            consumed = 1;
        }
        var column = lookIn.Columns[index];
        BoundExpression result = new BoundExpression.Column(index, column.Name, column.Type, column.Nullable);
        if (aggregate is not null)
        {
            int key = aggregate.Keys.FindIndex(k => k is BoundExpression.Column kc && kc.Index == index);
            if (key < 0)
                throw Error(c.Start, $"column \"{column.Name}\" must appear in the GROUP BY clause or be used in an aggregate function");
            result = new BoundExpression.Column(key, column.Name, column.Type, column.Nullable);
        }
        for (int p = consumed; p < c.Parts.Count; p++)
            result = Field(result, c.Parts[p]);
        return result;
    }

    private static List<int> Matches(Scope scope, SqlName name, SqlName? qualifier)
    {
        var exact = new List<int>();
        var loose = new List<int>();
        for (int i = 0; i < scope.Columns.Count; i++)
        {
            var col = scope.Columns[i];
            if (qualifier is not null && (col.Qualifier is null || !qualifier.Matches(col.Qualifier))) continue;
            if (col.Name == name.Text) exact.Add(i);
            else if (name.Matches(col.Name)) loose.Add(i);
        }
        return exact.Count > 0 ? exact : loose;
    }

    private BoundExpression Field(BoundExpression operand, SqlName field)
    {
        if (operand.Type.Kind != SqlTypeKind.Struct)
            throw Error(field.Position, $"\"{field.Text}\" is not a field: the value before the '.' is {operand.Type}, not a struct");
        var fields = operand.Type.Fields!;
        int index = -1;
        for (int i = 0; i < fields.Count; i++) if (fields[i].Name == field.Text) { index = i; break; }
        if (index < 0) for (int i = 0; i < fields.Count; i++) if (field.Matches(fields[i].Name)) { index = i; break; }
        if (index < 0)
            throw Error(field.Position, $"the struct has no field \"{field.Text}\"" + NearestNames.Suggest(field.Text, fields.Select(f => f.Name)) + $" (fields: {string.Join(", ", fields.Select(f => f.Name))})");
        return new BoundExpression.FieldAccess(operand, index, fields[index].Type);
    }

    private BoundExpression Function(SqlExpression.FunctionCall f, Scope scope, AggregateContext? aggregate, UnnestContext? unnest)
    {
        string name = f.Name.Text;
        if (f.Over is not null || IsRankingFunction(name)) throw RankingMisplaced(f);
        if (name.Equals("struct_pack", StringComparison.OrdinalIgnoreCase) || name.Equals("named_struct", StringComparison.OrdinalIgnoreCase))
            return StructPack(f, a => Bind(a, scope, aggregate, unnest));
        if (f.ArgumentNames?.FirstOrDefault(n => n is not null) is { } named)
            throw Error(named.Position, $"{name} takes no named arguments (name := value); struct_pack does");
        if (name.Equals("unnest", StringComparison.OrdinalIgnoreCase))
        {
            if (unnest is null) throw Error(f.Start, "UNNEST is only allowed in a select list, and not inside an aggregate");
            if (f.Arguments.Count != 1) throw Error(f.Start, "UNNEST takes one list");
            var list = Bind(f.Arguments[0], scope, null, null);
            if (list.Type.Kind != SqlTypeKind.List) throw Error(f.Arguments[0].Start, $"UNNEST takes a list, not {list.Type}");
            unnest.Lists.Add(list);
            int j = unnest.Lists.Count - 1;
            return new BoundExpression.Column(unnest.InputWidth + j, "unnest", list.Type.Element!, true);
        }
        if (IsWindowFunction(name) && _functions.Scalar(name) is null)
            throw Error(f.Start, $"{name}(...) is a window: it belongs in GROUP BY, and the select list reads window_start and window_end");
        if (_functions.Aggregate(name) is { } aggregateFunction)
        {
            if (aggregate is null) throw Error(f.Start, $"the aggregate {name}() is not allowed here");
            int arguments = aggregateFunction.ParameterText is null ? 1 : 2;
            if (f.Arguments.Count > arguments || (f.Arguments.Count == 0 && !f.IsStar) || (f.IsStar && !name.Equals("count", StringComparison.OrdinalIgnoreCase))
                || (arguments == 2 && f.Arguments.Count != 2))
                throw Error(f.Start, arguments == 2 ? $"{name} takes a value and {aggregateFunction.ParameterText}"
                    : $"{name} takes one argument" + (name.Equals("count", StringComparison.OrdinalIgnoreCase) ? " or *" : ""));
            object? constant = arguments == 2 ? AggregateParameter(aggregateFunction, f.Arguments[1], name) : null;
            int? argument = null;
            BoundExpression? bound = null;
            if (f.Arguments.Count >= 1)
            {
                if (ContainsAggregate(f.Arguments[0])) throw Error(f.Arguments[0].Start, "aggregate functions cannot be nested");
                bound = Bind(f.Arguments[0], aggregate.Input);
            }
            var argumentType = bound?.Type.Kind == SqlTypeKind.Null ? SqlType.Integer : bound?.Type;
            var (parameter, returns) = aggregateFunction.Resolve(argumentType)
                ?? throw Error(f.Start, $"{name}({argumentType}) does not exist: {aggregateFunction.Description}");
            if (bound is not null)
            {
                argument = aggregate.Arguments.Count;
                aggregate.Arguments.Add(Coerce(bound, parameter!, f.Arguments[0].Start));
            }
            int? filter = null;
            if (f.Filter is not null)
            {
                if (ContainsAggregate(f.Filter)) throw Error(f.Filter.Start, "aggregate functions cannot be nested (in FILTER)");
                var condition = BindCondition(f.Filter, aggregate.Input, "FILTER");
                filter = aggregate.Arguments.Count;
                aggregate.Arguments.Add(condition);
            }
            aggregate.Calls.Add(new AggregateCall(aggregateFunction, argument, f.Distinct) { Filter = filter, Parameter = constant });
            int output = aggregate.Keys.Count + aggregate.Calls.Count - 1;
            bool nullable = aggregateFunction.Name is not ("count" or "approx_distinct");
            aggregate.CallColumns.Add(new PlanColumn(DefaultName(f), returns, nullable));
            return new BoundExpression.Column(output, name, returns, nullable);
        }
        if (f.IsStar) throw Error(f.Start, $"{name}(*) is not a function; only count(*) takes *");
        if (f.Distinct) throw Error(f.Start, $"DISTINCT is only allowed in aggregate calls");
        if (f.Filter is not null) throw Error(f.Filter.Start, "FILTER is only allowed in aggregate calls");
        var args = f.Arguments.Select(a => Bind(a, scope, aggregate, unnest)).ToList();
        return Call(name, args, f.Arguments, f.Name.Position, name);
    }

    /// <summary>An aggregate's constant second argument (approx_percentile's fraction), checked.</summary>
    private object? AggregateParameter(AggregateFunction function, SqlExpression e, string name)
    {
        BoundExpression bound;
        try { bound = Bind(e, Scope.Empty); }
        catch (SqlException) { throw Error(e.Start, $"{name} takes {function.ParameterText}"); }
        object? value = bound is BoundExpression.Literal { Value: int or long or double or float } literal ? Convert.ToDouble(literal.Value, CultureInfo.InvariantCulture) : null;
        if (value is null) throw Error(e.Start, $"{name} takes {function.ParameterText}");
        if (function.CheckParameter?.Invoke(value) is { } problem) throw Error(e.Start, $"{name}: {problem}");
        return value;
    }

    /// <summary>Resolves a function or operator for bound arguments and converts them to its parameter types.</summary>
    private BoundExpression Call(string name, List<BoundExpression> args, IReadOnlyList<SqlExpression> syntax, int position, string shown)
    {
        var function = _functions.Scalar(name);
        if (function is null)
        {
            string problem = _functions.Aggregate(name) is not null ? $"the aggregate {name}() is not allowed here" :
                $"there is no function {name}()" + NearestNames.Suggest(name, _functions.Names);
            throw Error(position, problem);
        }
        var infos = args.Select(a => new ArgumentInfo(a.Type, a is BoundExpression.Literal { IsStringLiteral: true }, a is BoundExpression.Literal lit ? lit.Value : null,
            a is BoundExpression.Literal, a is BoundExpression.Literal { IsIntegerLiteral: true })).ToList();
        FunctionBinding? binding;
        try { binding = function.Bind(infos); }
        catch (ArgumentRefusedException e) { throw Error(syntax.Count > e.Argument ? syntax[e.Argument].Start : position, e.Message); }
        if (binding is null)
        {
            string given = string.Join(", ", args.Select(a => a is BoundExpression.Literal { IsStringLiteral: true } ? "'...'" : a.Type.ToString()));
            string problem = char.IsLetter(name[0])
                ? $"{name}({given}) does not exist; {name} takes {function.Signatures}"
                : $"the operator {shown} does not apply to {given}" + (name == "+" && args.Any(a => a.Type.Kind == SqlTypeKind.Varchar) ? "; use || to join strings" : "");
            throw Error(position, problem);
        }
        var converted = args.Select((a, i) => Coerce(a, binding.Parameters[i], syntax.Count > i ? syntax[i].Start : position)).ToList();
        if (JsonFunctions.Flatten(function, converted) is { } flat) return Call(name, [.. flat], [], position, shown);
        bool nullable = binding.PropagatesNull ? converted.Any(a => a.Nullable) : true;
        // folded here too, not only when Bind returns: BETWEEN, IN and CASE x WHEN build calls of their own, and a constant
        // NULL BETWEEN 0 AND 7 must be the constant NULL for the calls around it to fold as well
        return ConstantFolding.Fold(new BoundExpression.Call(function, binding, converted, binding.Returns, nullable));
    }

    private BoundExpression Condition(SqlExpression syntax, BoundExpression e)
    {
        if (e.Type.Kind is SqlTypeKind.Boolean) return e;
        if (e.Type.Kind is SqlTypeKind.Null) return new BoundExpression.Literal(null, SqlType.Boolean);
        if (e is BoundExpression.Literal { IsStringLiteral: true }) return Coerce(e, SqlType.Boolean, syntax.Start);
        throw Error(syntax.Start, $"expected a BOOLEAN condition, but this is {e.Type}");
    }

    private static BoundExpression Logic(List<BoundExpression> terms, bool isAnd)
    {
        // flatten nested chains so the node stays wide
        var flat = new List<BoundExpression>();
        foreach (var t in terms)
        {
            if (isAnd && t is BoundExpression.And a) flat.AddRange(a.Terms);
            else if (!isAnd && t is BoundExpression.Or o) flat.AddRange(o.Terms);
            else flat.Add(t);
        }
        if (flat.Count == 1) return flat[0];
        bool nullable = flat.Any(t => t.Nullable);
        return ConstantFolding.Fold(isAnd ? new BoundExpression.And(flat, nullable) : new BoundExpression.Or(flat, nullable));
    }

    private (BoundExpression, BoundExpression) Comparable(BoundExpression l, BoundExpression r, SqlExpression ls, SqlExpression rs, int position, string what)
    {
        var type = ComparisonOperators.CommonType(new ArgumentInfo(l.Type, l is BoundExpression.Literal { IsStringLiteral: true }), new ArgumentInfo(r.Type, r is BoundExpression.Literal { IsStringLiteral: true }))
            ?? throw Error(position, $"{what} compares {l.Type} with {r.Type}, which have no common type");
        if (type.Kind == SqlTypeKind.Fixed)
            throw Error(position, $"{what} does not compare {type} values (FIXED columns pass through as they are)");
        return (Coerce(l, type, ls.Start), Coerce(r, type, rs.Start));
    }

    private BoundExpression ToText(BoundExpression e, SqlExpression syntax)
    {
        if (e.Type.Kind is SqlTypeKind.Varchar) return e;
        if (e.Type.Kind is SqlTypeKind.Null) return new BoundExpression.Literal(null, SqlType.Varchar);
        if (!CastFunctions.CanCast(e.Type, SqlType.Varchar)) throw Error(syntax.Start, $"|| joins strings; {e.Type} does not convert to VARCHAR");
        return ConstantFolding.Fold(new BoundExpression.Cast(e, SqlType.Varchar, false));
    }

    /// <summary>Converts to <paramref name="type"/>: nothing when it already is, a folded constant for literals, else a CAST node.</summary>
    private BoundExpression Coerce(BoundExpression e, SqlType type, int position)
    {
        if (e.Type == type) return e is BoundExpression.Literal { IsStringLiteral: true } s ? s with { IsStringLiteral = false } : e;
        if (e is BoundExpression.Literal { Value: null }) return new BoundExpression.Literal(null, type);
        if (e is BoundExpression.Literal literal) return CoerceLiteral(literal, type, position);
        if (!CastFunctions.CanCast(e.Type, type))
            throw Error(position, $"{e.Type} does not convert to {type}");
        return new BoundExpression.Cast(e, type, false);
    }

    private BoundExpression CoerceLiteral(BoundExpression.Literal literal, SqlType type, int position)
    {
        if (literal.Type == type) return new BoundExpression.Literal(literal.Value, type);
        if (!CastFunctions.CanCast(literal.Type, type))
            throw Error(position, $"{literal.Type} does not convert to {type}");
        if (ConstantFolding.TryEvaluate(new BoundExpression.Cast(new BoundExpression.Literal(literal.Value, literal.Type), type, false), out var value))
            return new BoundExpression.Literal(value, type);
        string shown = literal.Value is string s ? $"'{s}'" : ExpressionText.Of(literal, []);
        throw Error(position, $"{shown} is not a valid {type}" + (type.IsTimestamp || type.Kind == SqlTypeKind.Date ? " (write dates as 2024-01-31 and timestamps as 2024-01-31 10:00:00)" : ""));
    }
}
