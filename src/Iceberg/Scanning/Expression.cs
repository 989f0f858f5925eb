namespace DataPlane.Iceberg.Scanning;

public enum PredicateOperation
{
    Equal,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    NotNull,
    In,
}

/// <summary>
/// A row filter for scan planning and deletes: predicates on columns (by dotted name) combined with AND/OR.
/// Literals are the in-memory values of <see cref="Types.Conversions"/>, or DateTime/DateTimeOffset/DateOnly/ISO
/// strings for dates and timestamps; they are converted to the column's type when bound.
/// </summary>
public abstract record Expression
{
    public static readonly Expression True = new Constant(true);
    public static readonly Expression False = new Constant(false);

    public static Expression Equal(string column, object value) => new Predicate(column, PredicateOperation.Equal, [value]);
    public static Expression LessThan(string column, object value) => new Predicate(column, PredicateOperation.LessThan, [value]);
    public static Expression LessThanOrEqual(string column, object value) => new Predicate(column, PredicateOperation.LessThanOrEqual, [value]);
    public static Expression GreaterThan(string column, object value) => new Predicate(column, PredicateOperation.GreaterThan, [value]);
    public static Expression GreaterThanOrEqual(string column, object value) => new Predicate(column, PredicateOperation.GreaterThanOrEqual, [value]);
    public static Expression IsNull(string column) => new Predicate(column, PredicateOperation.IsNull, []);
    public static Expression NotNull(string column) => new Predicate(column, PredicateOperation.NotNull, []);
    public static Expression In(string column, params object[] values) => new Predicate(column, PredicateOperation.In, values);
    public static Expression And(Expression left, Expression right) => new AndExpression(left, right);
    public static Expression Or(Expression left, Expression right) => new OrExpression(left, right);

    public sealed record Constant(bool Value) : Expression
    {
        public override string ToString() => Value ? "true" : "false";
    }

    public sealed record Predicate(string Column, PredicateOperation Operation, IReadOnlyList<object> Literals) : Expression
    {
        public override string ToString() => Operation switch
        {
            PredicateOperation.IsNull => $"{Column} IS NULL",
            PredicateOperation.NotNull => $"{Column} IS NOT NULL",
            PredicateOperation.In => $"{Column} IN ({string.Join(", ", Literals)})",
            _ => $"{Column} {Symbol(Operation)} {Literals[0]}",
        };

        private static string Symbol(PredicateOperation op) => op switch
        {
            PredicateOperation.Equal => "=",
            PredicateOperation.LessThan => "<",
            PredicateOperation.LessThanOrEqual => "<=",
            PredicateOperation.GreaterThan => ">",
            _ => ">=",
        };
    }

    public sealed record AndExpression(Expression Left, Expression Right) : Expression
    {
        public override string ToString() => $"({Left} AND {Right})";
    }

    public sealed record OrExpression(Expression Left, Expression Right) : Expression
    {
        public override string ToString() => $"({Left} OR {Right})";
    }
}
