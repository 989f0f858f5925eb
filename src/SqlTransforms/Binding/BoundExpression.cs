using DataPlane.SqlTransforms.Functions;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// An expression with every name resolved to a column position, every function to its implementation and every
/// type known; implicit conversions are explicit <see cref="Cast"/> nodes. Its height is bounded like the syntax
/// tree it came from. <see cref="Nullable"/> is false only where a NULL cannot come out (required columns, literals).
/// </summary>
internal abstract record BoundExpression(SqlType Type, bool Nullable)
{
    /// <summary>Column <see cref="Index"/> of the input batch.</summary>
    public sealed record Column(int Index, string Name, SqlType Type, bool Nullable) : BoundExpression(Type, Nullable);

    /// <summary>A constant in the engine's representation of its type (see <see cref="Values"/>); null is SQL NULL.</summary>
    public sealed record Literal(object? Value, SqlType Type) : BoundExpression(Type, Value is null)
    {
        /// <summary>A string literal as written: VARCHAR, but it converts to whatever type its context wants (ts &gt; '2024-01-01').</summary>
        public bool IsStringLiteral { get; init; }
        /// <summary>A whole number as written: it converts to INTEGER where its value fits, and widens for free (DuckDB's integer literals).</summary>
        public bool IsIntegerLiteral { get; init; }

        public static Literal Null(SqlType type) => new(null, type);
    }

    /// <summary>A scalar function or operator from the registry, its arguments already converted to its parameter types.</summary>
    public sealed record Call(ScalarFunction Function, FunctionBinding Binding, IReadOnlyList<BoundExpression> Arguments, SqlType Type, bool Nullable)
        : BoundExpression(Type, Nullable);

    /// <summary>CAST, or with <see cref="Try"/> TRY_CAST (a value that does not convert is NULL instead of failing the row).</summary>
    public sealed record Cast(BoundExpression Operand, SqlType Type, bool Try) : BoundExpression(Type, Operand.Nullable || Try);

    public sealed record Case(IReadOnlyList<(BoundExpression When, BoundExpression Then)> Whens, BoundExpression Else, SqlType Type, bool Nullable)
        : BoundExpression(Type, Nullable);

    public sealed record And(IReadOnlyList<BoundExpression> Terms, bool Nullable) : BoundExpression(SqlType.Boolean, Nullable);
    public sealed record Or(IReadOnlyList<BoundExpression> Terms, bool Nullable) : BoundExpression(SqlType.Boolean, Nullable);
    public sealed record Not(BoundExpression Operand) : BoundExpression(SqlType.Boolean, Operand.Nullable);
    public sealed record IsNull(BoundExpression Operand, bool Negated) : BoundExpression(SqlType.Boolean, false);
    /// <summary>IS [NOT] DISTINCT FROM: equality where NULL equals NULL; never NULL itself.</summary>
    public sealed record IsDistinct(BoundExpression Left, BoundExpression Right, bool Negated) : BoundExpression(SqlType.Boolean, false);
    /// <summary>COALESCE: the first non-NULL argument, later ones evaluated only for rows still NULL.</summary>
    public sealed record Coalesce(IReadOnlyList<BoundExpression> Arguments, SqlType Type, bool Nullable) : BoundExpression(Type, Nullable);
    public sealed record FieldAccess(BoundExpression Operand, int Field, SqlType Type) : BoundExpression(Type, true);
    /// <summary><c>list[i]</c>, 1-based; negative counts from the end; out of range is NULL.</summary>
    public sealed record ListIndex(BoundExpression List, BoundExpression Position, SqlType Type) : BoundExpression(Type, true);
    public sealed record MakeList(IReadOnlyList<BoundExpression> Items, SqlType Type) : BoundExpression(Type, false);
    public sealed record MakeStruct(IReadOnlyList<BoundExpression> Fields, SqlType Type) : BoundExpression(Type, false);

    /// <summary>The expressions directly below this one.</summary>
    public IEnumerable<BoundExpression> Children() => this switch
    {
        Call c => c.Arguments,
        Cast c => [c.Operand],
        Case c => c.Whens.SelectMany(w => new[] { w.When, w.Then }).Append(c.Else),
        And a => a.Terms,
        Or o => o.Terms,
        Not n => [n.Operand],
        IsNull n => [n.Operand],
        IsDistinct d => [d.Left, d.Right],
        Coalesce c => c.Arguments,
        FieldAccess f => [f.Operand],
        ListIndex l => [l.List, l.Position],
        MakeList l => l.Items,
        MakeStruct s => s.Fields,
        _ => [],
    };

    /// <summary>The same expression with its children replaced (in the order of <see cref="Children"/>).</summary>
    public BoundExpression WithChildren(IReadOnlyList<BoundExpression> c) => this switch
    {
        Call x => x with { Arguments = c },
        Cast x => x with { Operand = c[0] },
        Case x => x with { Whens = Enumerable.Range(0, x.Whens.Count).Select(i => (c[2 * i], c[2 * i + 1])).ToList(), Else = c[^1] },
        And x => x with { Terms = c },
        Or x => x with { Terms = c },
        Not x => x with { Operand = c[0] },
        IsNull x => x with { Operand = c[0] },
        IsDistinct x => x with { Left = c[0], Right = c[1] },
        Coalesce x => x with { Arguments = c },
        FieldAccess x => x with { Operand = c[0] },
        ListIndex x => x with { List = c[0], Position = c[1] },
        MakeList x => x with { Items = c },
        MakeStruct x => x with { Fields = c },
        _ => this,
    };

    /// <summary>Rewrites bottom-up; <paramref name="rewrite"/> sees each node after its children were rewritten.</summary>
    public BoundExpression Rewrite(Func<BoundExpression, BoundExpression> rewrite)
    {
        var children = Children().ToList();
        if (children.Count == 0) return rewrite(this);
        var rewritten = new List<BoundExpression>(children.Count);
        bool changed = false;
        foreach (var child in children)
        {
            var r = child.Rewrite(rewrite);
            changed |= !ReferenceEquals(r, child);
            rewritten.Add(r);
        }
        return rewrite(changed ? WithChildren(rewritten) : this);
    }

    /// <summary>Every column index this expression reads.</summary>
    public void CollectColumns(HashSet<int> into)
    {
        if (this is Column c) into.Add(c.Index);
        foreach (var child in Children()) child.CollectColumns(into);
    }

    /// <summary>True when every function below is deterministic (now() and random() are not).</summary>
    public bool IsDeterministic => (this is not Call call || call.Function.Deterministic) && Children().All(c => c.IsDeterministic);
}
