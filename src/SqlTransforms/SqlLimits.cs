namespace DataPlane.SqlTransforms;

/// <summary>
/// Bounds on what one SQL text may ask of the compiler, so that any input ends in a plan or an error quickly and
/// no pass over the tree can run out of stack. The first three are the pipeline SQL's limits of old.
/// </summary>
public static class SqlLimits
{
    /// <summary>Characters in the SQL text.</summary>
    public const int MaxLength = 65_536;
    /// <summary>Conditions (comparisons, IS tests, IN, BETWEEN, LIKE) in one statement.</summary>
    public const int MaxTerms = 1_000;
    /// <summary>Levels of nesting: parentheses, subqueries, function calls, CASE, NOT and unary signs.</summary>
    public const int MaxDepth = 32;
    /// <summary>
    /// Height of an expression tree, counting one level per operator in a chain such as a + b + c (AND and OR
    /// chains are one wide node). Recursive passes over the tree are at most this deep.
    /// </summary>
    public const int MaxExpressionHeight = 256;
    /// <summary>Statements (INSERT INTO ... ; ...) in one SQL text.</summary>
    public const int MaxStatements = 64;
    /// <summary>
    /// Bytes of a string a function builds out of small inputs (repeat, lpad, rpad, replace, regexp_replace): past it
    /// the record fails, so that no value can ask for more memory than a few records' worth.
    /// </summary>
    public const int MaxStringBytes = 1 << 20;
    /// <summary>
    /// Levels of nesting (objects and arrays) the JSON functions read in one value, as the ingestion's parser allows:
    /// a deeper value fails the record (json_limit) rather than costing an unbounded walk.
    /// </summary>
    public const int MaxJsonDepth = 64;
    /// <summary>Bytes of one JSON value the JSON functions read (a record is at most 256 KiB by default): a longer one fails the record (json_limit).</summary>
    public const int MaxJsonBytes = 16 << 20;
    /// <summary>
    /// Time one regular expression match may take on one value before the record fails (regex_timeout). The engine
    /// is linear in the input, so this is a backstop for huge values, never reached by ordinary ones.
    /// </summary>
    public static readonly TimeSpan RegexMatchTimeout = TimeSpan.FromSeconds(1);
}
