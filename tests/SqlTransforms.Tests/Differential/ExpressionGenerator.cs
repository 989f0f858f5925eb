using System.Globalization;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// Random typed expression trees over the columns of <see cref="Columns"/>, and random rows for them full of NULLs,
/// extremes, empty strings and non-ASCII text. Divisors are wrapped in nullif(x, 0) (a zero divisor is an intended
/// difference); everything else, overflows and failed casts included, is compared with DuckDB.
/// </summary>
/// With <c>json</c>, VARCHAR expressions include <see cref="Json"/> forms (their own test: a new form changes every
/// later draw of a seed's run).
internal sealed class ExpressionGenerator(Random random, bool json = false)
{
    public static readonly (string Name, SqlType Type, bool Nullable)[] Columns =
    [
        ("id", SqlType.BigInt, false), ("i", SqlType.Integer, true), ("j", SqlType.Integer, true), ("l", SqlType.BigInt, true),
        ("x", SqlType.Double, true), ("y", SqlType.Double, true), ("s", SqlType.Varchar, true), ("u", SqlType.Varchar, true),
        ("b", SqlType.Boolean, true), ("d", SqlType.Date, true), ("ts", SqlType.Timestamp, true),
    ];

    private static readonly string[] Strings = ["", "a", "ABC", "héllo", "日本語", "😀x", " padded ", "a%b_c", "1", "-12", " 42 ", "2024-01-31", "true", "x,y,,z", "Ünïcödé", "it's"];
    private static readonly int[] Ints = [0, 1, -1, 2, 7, -7, 100, int.MaxValue, int.MinValue, 46341, 65536];
    private static readonly long[] Longs = [0, 1, -1, 3, long.MaxValue, long.MinValue, 3_037_000_500, 1L << 40];
    private static readonly double[] Doubles = [0, 1, -1, 0.5, -2.5, 0.1, 3.14159, 1e308, -1e308, 1e-300, 123456.789, 1e16, 2.5e-5];

    public List<object?[]> Rows(int count)
    {
        var rows = new List<object?[]>();
        for (int r = 0; r < count; r++)
            rows.Add(Columns.Select((c, i) => i == 0 ? (object?)(long)r : random.Next(4) == 0 ? null : Value(c.Type)).ToArray());
        return rows;
    }

    private object Value(SqlType type) => type.Kind switch
    {
        SqlTypeKind.Integer => random.Next(3) == 0 ? random.Next(-1000, 1000) : Ints[random.Next(Ints.Length)],
        SqlTypeKind.BigInt => random.Next(3) == 0 ? (long)random.Next() * random.Next(-3, 3) : Longs[random.Next(Longs.Length)],
        SqlTypeKind.Double => random.Next(3) == 0 ? Math.Round(random.NextDouble() * 2000 - 1000, random.Next(0, 4)) : Doubles[random.Next(Doubles.Length)],
        SqlTypeKind.Varchar => Strings[random.Next(Strings.Length)],
        SqlTypeKind.Boolean => random.Next(2) == 0,
        SqlTypeKind.Date => random.Next(-25_000, 60_000),
        SqlTypeKind.Timestamp => (long)random.Next(-2_000_000_000, 2_000_000_000) * 1_000_000 + random.Next(0, 1_000_000) * (random.Next(2) == 0 ? 0L : 1L),
        _ => throw new NotSupportedException(type.ToString()),
    };

    public string Expression(SqlType type, int depth)
    {
        if (depth <= 0 || random.Next(4) == 0) return Leaf(type);
        string E(SqlType t) => Expression(t, depth - 1);
        string I() => E(SqlType.Integer);
        string L() => E(SqlType.BigInt);
        string X() => E(SqlType.Double);
        string S() => E(SqlType.Varchar);
        string B() => E(SqlType.Boolean);
        switch (type.Kind)
        {
            case SqlTypeKind.Integer:
                return random.Next(20) switch
                {
                    17 => $"struct_extract(struct_pack(a := {I()}, b := {S()}), {Pick("'a'", "'A'")})",
                    18 => $"struct_pack(k := {I()}, v := {X()}).k",
                    19 => $"struct_extract_at({{'p': {I()}, 'q': {S()}}}, 1)",
                    15 => Pick($"array_position({IntList(depth)}, {I()})", $"array_position([{IntList(depth)}, NULL, {IntList(depth)}], {Pick(IntList(depth), "NULL")})"),
                    16 => $"{Pick("array_position", "list_position")}({TextList(depth)}, {S()})",
                    0 => $"({I()} + {I()})",
                    1 => $"({I()} - {I()})",
                    2 => $"({I()} * {I()})",
                    3 => $"abs({I()})",
                    4 => $"({I()} // nullif({I()}, 0))",
                    5 => $"mod({I()}, nullif({I()}, 0))",
                    6 => $"CASE WHEN {B()} THEN {I()} ELSE {I()} END",
                    7 => $"coalesce({I()}, {I()})",
                    8 => $"greatest({I()}, {I()})",
                    9 => $"least({I()}, {I()}, {I()})",
                    10 => $"CAST({B()} AS INTEGER)",
                    11 => $"CAST(sign({Pick(I(), X(), L())}) AS INTEGER)", // DuckDB's sign is a TINYINT (see IntendedDifferences.SmallIntegers)
                    12 => $"trunc({I()}, {random.Next(-12, 3)})",
                    13 => $"trunc({I()})",
                    _ => $"(-{I()})",
                };
            case SqlTypeKind.BigInt:
                return random.Next(15) switch
                {
                    13 => $"{Pick("array_length", "len")}({Pick(IntList(depth), TextList(depth), $"flatten([{TextList(depth)}, NULL, {TextList(depth)}])")})",
                    14 => $"array_length({Pick("array_distinct", "list_distinct")}({Pick(IntList(depth), TextList(depth))}))",
                    11 => $"{Pick("epoch_ms", "epoch_us")}({E(SqlType.Timestamp)})",
                    12 => $"{Pick("year", "month", "day", "hour", "minute", "second", "quarter", "dayofweek", "dayofyear", "week", "isodow")}({Pick(E(SqlType.Timestamp), E(SqlType.Date))})",
                    0 => $"({L()} + {L()})",
                    1 => $"({L()} * {L()})",
                    2 => $"CAST({I()} AS BIGINT)",
                    3 => $"length({S()})",
                    4 => $"date_part('{Pick("year", "month", "day", "hour", "minute", "second", "dow", "doy", "quarter", "week")}', {E(SqlType.Timestamp)})",
                    5 => $"({L()} - {I()})",
                    6 => $"TRY_CAST({S()} AS BIGINT)",
                    7 => $"nullif({L()}, {L()})",
                    9 => $"{Pick("strpos", "instr")}({S()}, {Pick(Leaf(SqlType.Varchar), S(), "''", "'l'", "'é'")})",
                    10 => $"CAST(ascii({S()}) AS BIGINT)",
                    _ => $"abs({L()})",
                };
            case SqlTypeKind.Double:
                return random.Next(21) switch
                {
                    0 => $"({X()} + {X()})",
                    1 => $"({X()} * {X()})",
                    2 => $"({X()} / nullif({X()}, 0))",
                    3 => $"round({X()}, {random.Next(-2, 4)})",
                    4 => $"floor({X()})",
                    5 => $"ceil({X()})",
                    6 => $"abs({X()})",
                    7 => $"CAST({I()} AS DOUBLE)",
                    8 => $"({I()} / nullif({I()}, 0))",
                    9 => $"TRY_CAST({S()} AS DOUBLE)",
                    10 => $"trunc({X()})",
                    11 => $"trunc({X()}, {random.Next(-5, 6)})",
                    12 => $"sqrt({X()})",
                    13 => $"exp({Pick(X(), I())} / {Pick("100", "1000", "7")})",
                    14 => $"{Pick("ln", "log10", "log2", "log")}({X()})",
                    15 => $"pow({X()}, {Pick(X(), "2", "0.5", "-1", "3", "0")})",
                    16 => $"power({I()}, {Pick("2", "-2", "0.5")})",
                    17 => $"sqrt(abs({X()}))",
                    19 => $"CAST({E(SqlType.Decimal(18, 2))} AS DOUBLE)",
                    20 => $"({E(SqlType.Decimal(18, 2))} / nullif({E(SqlType.Decimal(18, 2))}, 0))",
                    _ => $"({X()} - {L()})",
                };
            case SqlTypeKind.Varchar:
                return random.Next(40) switch
                {
                    30 when json => Json(),
                    38 => $"struct_pack(a := {I()}, b := {S()}).b",
                    39 => $"struct_extract(struct_pack({Pick("s", "u")}, n := {I()}), {Pick("'s'", "'u'")})",
                    35 => $"array_to_string({Pick(IntList(depth), TextList(depth), $"[{X()}, {X()}]")}, {Pick("','", "''", "' - '", "NULL")})",
                    36 => $"{TextList(depth)}[{random.Next(-3, 4)}]",
                    37 => random.Next(2) == 0 ? $"array_to_string({Slice(Pick(IntList(depth), TextList(depth)), depth)}, ',')" : StringSlice(S(), depth),
                    28 => $"{Pick("to_hex", "hex")}({Pick(S(), L(), $"from_hex(to_hex({S()}))")})",
                    29 => $"CAST({Pick($"from_hex({Pick(S(), $"to_hex({S()})")})", $"from_base64({Pick(S(), $"to_base64(from_hex(to_hex({S()})))")})")} AS VARCHAR)",
                    25 => $"strftime({Pick(E(SqlType.Timestamp), E(SqlType.Date))}, {TimeFormat()})",
                    26 => $"CAST(to_timestamp({X()}) AS VARCHAR)",
                    27 => $"CAST(make_date({I()}, {I()}, {I()}) AS VARCHAR)",
                    22 => $"regexp_replace({S()}, {Regex()}, {Pick("'#'", "''", "'<\\0>'", "'\\1-'", "'\\2\\1'", "'$1'", Leaf(SqlType.Varchar))}{Pick("", ", 'g'", ", 'i'", ", 'gi'", ", 's'")})",
                    23 => $"regexp_extract({S()}, {Regex()}{Pick("", ", 0", ", 1", ", 2", ", 1, 'i'")})",
                    24 => $"regexp_extract({S()}, {Pick(Regex(), Leaf(SqlType.Varchar))})",
                    0 => $"lower({S()})",
                    1 => $"upper({S()})",
                    2 => $"trim({S()})",
                    3 => $"substr({S()}, {random.Next(-4, 5)}, {random.Next(0, 5)})", // no negative lengths: DuckDB's answer past the end depends on how the column is stored
                    4 => $"replace({S()}, {Leaf(SqlType.Varchar)}, {Leaf(SqlType.Varchar)})",
                    5 => $"concat({S()}, {S()})",
                    6 => $"({S()} || {S()})",
                    7 => $"split_part({S()}, {Pick("','", "''", "'a'", "' '")}, {random.Next(-3, 4)})",
                    8 => $"CAST({I()} AS VARCHAR)",
                    9 => $"CAST({X()} AS VARCHAR)",
                    10 => $"CAST({E(SqlType.Date)} AS VARCHAR)",
                    11 => $"CAST({E(SqlType.Timestamp)} AS VARCHAR)",
                    12 => $"{Pick("ltrim", "rtrim", "trim")}({S()}{Pick("", ", ' '", ", 'a'", ", 'xé '", ", ''", ", " + Leaf(SqlType.Varchar))})",
                    13 => $"{Pick("left", "right")}({S()}, {Pick(random.Next(-4, 5).ToString(CultureInfo.InvariantCulture), L(), I())})",
                    14 => $"{Pick("lpad", "rpad")}({S()}, {random.Next(-1, 9)}, {Pick("'*'", "'ab'", "'é✓'", "''", Leaf(SqlType.Varchar))})",
                    15 => $"reverse({S()})",
                    16 => $"repeat({S()}, {random.Next(-1, 4)})",
                    17 => $"concat_ws({Pick("','", "''", "' - '", Leaf(SqlType.Varchar))}, {S()}, {E(AnyScalar())}, {S()})",
                    18 => $"concat({E(AnyScalar())}, {E(AnyScalar())})",
                    19 => $"{Pick("md5", "sha256")}({S()})",
                    20 => $"chr({Pick("65", "233", "128512", "0", "1114112", $"CAST(abs({I()} % 300) AS INTEGER)")})",
                    21 => $"CAST(strpos({S()}, {S()}) AS VARCHAR)",
                    _ => $"CASE WHEN {B()} THEN {S()} END",
                };
            case SqlTypeKind.Boolean:
            {
                var t = Pick(SqlType.Integer, SqlType.BigInt, SqlType.Double, SqlType.Varchar, SqlType.Date, SqlType.Timestamp, SqlType.Boolean, SqlType.Decimal(18, 2));
                return random.Next(17) switch
                {
                    14 => $"{Pick("array_contains", "list_contains", "list_has")}({IntList(depth)}, {Pick(I(), L())})",
                    15 => $"array_contains({TextList(depth)}, {S()})",
                    16 => Pick($"array_contains(array_distinct({IntList(depth)}), {I()})", $"array_contains(array_distinct([{IntList(depth)}, {IntList(depth)}, NULL]), {IntList(depth)})"),
                    0 => $"({E(t)} {Pick("=", "<>", "<", "<=", ">", ">=")} {E(t)})",
                    1 => $"({B()} AND {B()})",
                    2 => $"({B()} OR {B()} OR {B()})",
                    3 => $"(NOT {B()})",
                    4 => $"({E(t)} IS {Pick("", "NOT ")}NULL)",
                    5 => $"({E(t)} IS {Pick("", "NOT ")}DISTINCT FROM {E(t)})",
                    6 => $"({I()} {Pick("", "NOT ")}IN ({I()}, {Leaf(SqlType.Integer)}, NULL))",
                    7 => $"({I()} BETWEEN {I()} AND {I()})",
                    8 => $"({S()} {Pick("LIKE", "ILIKE", "NOT LIKE")} {Pick("'%'", "'a%'", "'%_'", "'_'", "'%é%'", "'A_C'", "''", "'%x'")})",
                    12 => $"{Pick("regexp_matches", "regexp_full_match")}({S()}, {Pick(Regex(), Leaf(SqlType.Varchar))}{Pick("", "", ", 'i'", ", 's'")})",
                    13 => $"({S()} {Pick("", "NOT ")}SIMILAR TO {Regex()})",
                    9 => $"{Pick("starts_with", "ends_with", "contains")}({S()}, {Pick(Leaf(SqlType.Varchar), S(), "''", "'a'", "'é'")})",
                    10 => $"TRY_CAST({S()} AS BOOLEAN)",
                    _ => $"({E(t)} {Pick("=", "<")} {Leaf(t)})",
                };
            }
            case SqlTypeKind.Decimal:
            {
                string D() => E(type);
                return random.Next(9) switch
                {
                    0 => $"({D()} + {D()})",
                    1 => $"({D()} - {D()})",
                    2 => $"({D()} * {D()})",
                    3 => $"(-{D()})",
                    4 => $"({D()} {Pick("+", "-")} {I()})",
                    5 => $"({L()} * {D()})",
                    6 => $"({D()} + {L()})", // no %: past 38 digits it is DOUBLE's fmod, whose last bits differ
                    7 => $"({I()} - {D()})",
                    _ => DecimalLeaf(),
                };
            }
            case SqlTypeKind.Date:
                return random.Next(3) switch { 0 => $"({E(SqlType.Date)} + {random.Next(-400, 400)})", 1 => $"CAST({E(SqlType.Timestamp)} AS DATE)", _ => $"TRY_CAST({Leaf(SqlType.Varchar)} AS DATE)" }; // not of any text: DuckDB reads 'inf' as an infinite date
            case SqlTypeKind.Timestamp:
                return random.Next(8) switch
                {
                    4 => $"date_add({Pick(E(SqlType.Timestamp), E(SqlType.Date))}, INTERVAL {random.Next(0, 40)} {Pick("DAY", "HOUR", "MINUTE", "MONTH", "YEAR", "SECOND")})",
                    5 => $"try_strptime({Pick(S(), $"strftime({E(SqlType.Timestamp)}, {TimeFormat()})")}, {TimeFormat()})",
                    6 => $"{Pick($"epoch_ms({L()})", $"make_timestamp({I()})", $"make_timestamp({I()}, {I()}, {I()}, {I()}, {I()}, {X()})")}",
                    7 => $"date_add({E(SqlType.Timestamp)}, INTERVAL '{random.Next(-40, 40)} {Pick("days", "hours", "months")}')",
                    0 => $"date_trunc('{Pick("year", "quarter", "month", "week", "day", "hour", "minute", "second")}', {E(SqlType.Timestamp)})",
                    1 => $"({E(SqlType.Timestamp)} + INTERVAL '{random.Next(-40, 40)} {Pick("days", "hours", "minutes", "months", "years", "seconds")}')",
                    2 => $"CAST({E(SqlType.Date)} AS TIMESTAMP)",
                    _ => $"({E(SqlType.Timestamp)} - INTERVAL '{random.Next(0, 100)} {Pick("days", "months")}')",
                };
        }
        throw new NotSupportedException(type.ToString());
    }

    private string Leaf(SqlType type)
    {
        if (type.Kind == SqlTypeKind.Decimal) return DecimalLeaf();
        var columns = Columns.Where(c => c.Type == type && c.Name != "id").ToArray();
        if (columns.Length > 0 && random.Next(3) != 0) return columns[random.Next(columns.Length)].Name;
        if (random.Next(12) == 0) return $"CAST(NULL AS {type})";
        return DuckDbOracle.Literal(Value(type), type) switch
        {
            // a negative number literal in parentheses, so "- -1" never reads as a comment
            var text when text.StartsWith('-') => "(" + text + ")",
            var text => text,
        };
    }

    /// <summary>
    /// ->> and -> over well-formed compact JSON built of integers and the plain strings of <see cref="Strings"/>, where
    /// DataFusion's rules (ours) and DuckDB's agree; -> only to integers and arrays of them, which both write alike.
    /// </summary>
    public string Json()
    {
        string json = $"('{{\"a\":' || CAST({E(SqlType.Integer)} AS VARCHAR) || ',\"b\":[' || CAST({E(SqlType.BigInt)} AS VARCHAR) || ',{{\"c\":\"' || {Leaf(SqlType.Varchar)} || '\"}}],\"n\":{{\"m\":[]}}}}')";
        return random.Next(5) switch
        {
            0 => $"({json} ->> {Pick("'a'", "'b'", "'n'", "'z'")})",
            1 => $"({json} -> 'b' ->> {Pick("0", "1", "2")})",
            2 => $"({json} -> 'b' -> 1 ->> {Pick("'c'", "'d'")})",
            3 => $"({json} -> {Pick("'a'", "'n'", "'zz'")} ->> 'm')",
            _ => $"({json} -> {Pick("'a'", "'b'", "'n'")})",
        };

        string E(SqlType t) => Expression(t, 1);
    }

    /// <summary>A DECIMAL: a column or a constant cast to one (out of range fails the record in both engines).</summary>
    private string DecimalLeaf()
    {
        // constants that fit their type (a constant that does not is refused when binding; columns fail per record)
        string type = Pick("DECIMAL(12,2)", "DECIMAL(18,4)", "DECIMAL(38,0)", "DECIMAL(10,0)", "DECIMAL(5,3)", "DECIMAL(38,10)", "DECIMAL(20,6)");
        bool small = type == "DECIMAL(5,3)";
        string digits = random.Next(small ? -99 : -99999, small ? 100 : 99999).ToString(CultureInfo.InvariantCulture) + "." + random.Next(0, 1000).ToString("D3", CultureInfo.InvariantCulture);
        string wide = Pick("DECIMAL(38,0)", "DECIMAL(38,10)");
        return Pick(small ? $"CAST(j AS {type})" : $"CAST({Leaf(SqlType.Integer)} AS {type})", $"CAST({Leaf(SqlType.BigInt)} AS {wide})", $"CAST(l AS {type})", $"CAST('{digits}' AS {type})",
            $"(CAST(l AS DECIMAL(38,0)) * CAST('{Pick("", "-")}10000000000000000000' AS DECIMAL(20,0)))", // near 38 digits, from a column: overflows per record
            $"CAST({Pick("'0.001'", "'-0.5'", "'1234567890123456789012345.5'")} AS DECIMAL(38,0))");
    }

    /// <summary>An INTEGER[]: a list of expressions (with NULLs), or a slice of one.</summary>
    private string IntList(int depth)
    {
        string I() => Expression(SqlType.Integer, depth - 1);
        return random.Next(3) switch
        {
            0 => $"[{I()}, {I()}, {I()}]",
            1 => $"[{I()}, NULL, {I()}, {Leaf(SqlType.Integer)}]",
            _ => Slice($"[{I()}, {I()}, {I()}, {I()}]", depth),
        };
    }

    /// <summary>
    /// A slice of <paramref name="list"/>: array_slice or list_slice, or the syntax l[a:b] and l[a:b:c] with omitted bounds
    /// (and DuckDB's '-' for an omitted end before a step, whose step is then a constant); a bound a constant or an
    /// expression (NULL at times).
    /// </summary>
    private string Slice(string list, int depth)
    {
        string B() => random.Next(4) == 0 ? Expression(SqlType.Integer, depth - 1) : Bound();
        if (random.Next(3) == 0) return $"{Pick("array_slice", "list_slice")}({list}, {B()}, {B()}{Step()})";
        string step = Step();
        string begin = random.Next(4) == 0 ? "" : B();
        string end = random.Next(4) == 0 ? (step.Length > 0 ? "-" : "") : B(); // "l[a::c]" would read as a cast
        return $"({list})[{begin}:{end}{(step.Length > 0 ? ":" + step[2..] : "")}]";
    }

    /// <summary>A slice of a string by characters: s[a:b] (bounds omitted at times) or array_slice(s, a, b); no step (DuckDB has none for strings).</summary>
    private string StringSlice(string text, int depth)
    {
        string B() => random.Next(4) == 0 ? Expression(SqlType.Integer, depth - 1) : Bound();
        return random.Next(3) == 0 ? $"array_slice({text}, {B()}, {B()})" : $"({text})[{(random.Next(4) == 0 ? "" : B())}:{(random.Next(4) == 0 ? "" : B())}]";
    }

    /// <summary>A VARCHAR[]: text split by string_to_array (empty parts, '' splitting into characters), or a list of expressions.</summary>
    private string TextList(int depth)
    {
        string S() => Expression(SqlType.Varchar, depth - 1);
        return random.Next(3) switch
        {
            0 => $"{Pick("string_to_array", "string_split", "str_split")}({S()}, {Pick("','", "''", "' '", "'a'", "NULL", Leaf(SqlType.Varchar))})",
            1 => $"[{S()}, {S()}, NULL]",
            _ => Slice($"string_to_array({S()}, ',')", depth),
        };
    }

    private string Bound() => Pick("1", "2", "3", "-1", "-2", "0", "100", "(-100)", "9223372036854775807", "(-9223372036854775807)", random.Next(-5, 6).ToString(CultureInfo.InvariantCulture));

    private string Step() => Pick("", "", "", ", 1", ", 2", ", -1", ", -2", ", 0", ", 9223372036854775807");

    /// <summary>Patterns both RE2 and the engine read alike (ASCII classes, anchors, lazy and empty matches, groups).</summary>
    private string Regex() => Pick("'[0-9]+'", "'l+'", "'^a'", "'(a|b)c?'", "'[[:alpha:]]+'", "'\\d'", "'é'", "'(.)(.)'", "''", "'.*'", "'x*'",
        "'\\s+'", "'[^a-z]'", "'(?i)abc'", "'([a-z]+)([0-9]*)'", "'\\w+$'", "'.+?'", "'[日本]'", "'(😀|x)+'", "'\\pL+'");

    private string TimeFormat() => Pick("'%Y-%m-%d %H:%M:%S'", "'%d/%m/%Y'", "'%Y-%m-%d'", "'%y %-m %-d %I %p %-M %-S %g'", "'%a %A %w %b %B'",
        "'%Y-%m-%dT%H:%M:%S.%f'", "'%c'", "'%H:%M'", "'%B %-d, %Y'", "'%j/%Y'");

    private T Pick<T>(params T[] options) => options[random.Next(options.Length)];

    private SqlType AnyScalar() => Pick(SqlType.Integer, SqlType.BigInt, SqlType.Double, SqlType.Varchar, SqlType.Boolean, SqlType.Date, SqlType.Timestamp);

    public SqlType AnyType() => Pick(SqlType.Integer, SqlType.BigInt, SqlType.Double, SqlType.Varchar, SqlType.Boolean, SqlType.Date, SqlType.Timestamp, SqlType.Decimal(18, 2));

    public static string Text(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
