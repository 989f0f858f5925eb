namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// Where DataPlane's SQL answers differently from DuckDB on purpose: the one list (README's SQL reference repeats it).
/// A corpus case that DuckDB answers differently names one of these in its "== duckdb skip: reason" line.
/// </summary>
internal static class IntendedDifferences
{
    /// <summary>A zero divisor fails the record (PostgreSQL's rule; the record is dropped and counted); DuckDB answers NULL or infinity.</summary>
    public const string DivisionByZero = "division by zero";
    /// <summary>An overflow or a failed CAST drops the record and counts it; DuckDB fails the whole query.</summary>
    public const string RecordErrors = "record errors";
    /// <summary>Literals with a fraction (2.5) are DOUBLE; DuckDB makes them DECIMAL (CAST('2.5' AS DECIMAL(2,1)) is one here).</summary>
    public const string DecimalLiterals = "decimal literals";
    /// <summary>now() is the processing time of each batch (a fixed clock in tests); DuckDB's is the transaction's start.</summary>
    public const string ProcessingTime = "processing time";
    /// <summary>Pipelines write to sinks (INSERT INTO a sink that is not a table), and refuse what needs windows over streams.</summary>
    public const string PipelineOnly = "pipeline only";
    /// <summary>sum of integers is DECIMAL(38,0) (Arrow has no 128-bit integer); DuckDB's HUGEINT prints the same digits.</summary>
    public const string HugeInt = "hugeint";

    /// <summary>
    /// The engine has no TINYINT or SMALLINT: sign() is an INTEGER (DuckDB's is a TINYINT, whose arithmetic overflows
    /// past 127, so sign(x) + 127 fails there). The values are the same.
    /// </summary>
    public const string SmallIntegers = "small integers";

    /// <summary>
    /// A record fails only where the failing value decides its result: not in an AND/OR term that another term
    /// decides, not in a CASE branch or COALESCE argument not taken. DuckDB may fail the whole query there, depending
    /// on the order it evaluates in (it reorders filter terms, and evaluates every term of a projected AND).
    /// </summary>
    public const string EvaluationOrder = "evaluation order";

    /// <summary>A function DuckDB does not have (initcap is PostgreSQL's): its cases are checked against the expected rows only.</summary>
    public const string NotInDuckDb = "not in duckdb";

    /// <summary>
    /// approx_distinct (HyperLogLog) and approx_percentile (exact up to 1,024 values a group, then a DDSketch) are
    /// estimates by their own algorithms; DuckDB's (approx_count_distinct, approx_quantile's t-digest) estimate differently.
    /// </summary>
    public const string ApproximateAggregates = "approximate aggregates";

    /// <summary>
    /// The JSON functions and operators follow DataFusion's (datafusion-functions-json, as in Arroyo): a malformed
    /// document gives NULL (DuckDB fails the query), <c>-&gt;</c> gives JSON null as NULL (DuckDB: the JSON 'null'), a
    /// CAST of json_get reads the value as the typed getter would (DuckDB casts the JSON text), a key is a key even when it
    /// starts with $ (DuckDB reads a JSONPath), a negative index finds nothing (DuckDB counts from the end), and a value
    /// is given as written (DuckDB writes it again, minified).
    /// </summary>
    public const string Json = "json rules";

    /// <summary>
    /// hash(x) is xxhash64(x), XXH64 of the bytes Iceberg's bucket hash reads, as a BIGINT, and NULL of NULL; DuckDB's
    /// hash is its own 64-bit hash as a UBIGINT, of NULL too: the values differ.
    /// </summary>
    public const string HashValues = "hash values";

    /// <summary>array_distinct keeps each value's first occurrence in order; DuckDB's order is its hash table's (unspecified).</summary>
    public const string ArrayDistinctOrder = "array_distinct order";

    /// <summary>array_to_string takes its separator from a column too; DuckDB takes only a constant (a Binder Error otherwise).</summary>
    public const string ColumnSeparator = "column separator";

    /// <summary>
    /// A DECIMAL product is computed whenever it fits its result type; DuckDB multiplies two DECIMALs of 18 digits or
    /// fewer in 64 bits and fails the query when the product passes that, though the result type would hold it.
    /// </summary>
    public const string DecimalProducts = "decimal products";

    /// <summary>
    /// The smallest INTEGER or BIGINT <c>% -1</c> is 0, the exact remainder (PostgreSQL's answer); DuckDB fails the query with
    /// an overflow, as its division does. The division <c>//</c> overflows here too and drops the record.
    /// </summary>
    public const string MinimumRemainder = "minimum remainder";

    /// <summary>
    /// DuckDB 1.5's top_n_window_elimination rewrite (row_number() ... &lt;= N into arg_max aggregates) answers some queries
    /// wrongly: a hop window's top row by v DESC NULLS LAST was v = 6 where the window's largest v is 10 (DuckDB's answer
    /// with the rewrite disabled, and without its optimizer); its issues 23677 and 24363 are others. Where DuckDB's rows
    /// differ from ours, the top-N test asks DuckDB again without that one rewrite and compares with that answer.
    /// </summary>
    public const string DuckDbTopNRewrite = "duckdb top-n rewrite";

    public static readonly string[] All = [DuckDbTopNRewrite, MinimumRemainder, DecimalProducts, Json, HashValues, ArrayDistinctOrder, ColumnSeparator, ApproximateAggregates, DivisionByZero, RecordErrors, DecimalLiterals, ProcessingTime, PipelineOnly, HugeInt, EvaluationOrder, SmallIntegers, NotInDuckDb];
}
