using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// JSON for schemaless streams, DataFusion's json functions (datafusion-functions-json, as Arroyo has them):
/// <c>json_get(json, key_or_index, ...)</c> and its typed forms, json_length, json_contains, json_as_text; the
/// operators <c>-&gt;</c> (json_get) and <c>-&gt;&gt;</c> (json_as_text). The path is any number of object keys
/// (VARCHAR) and 0-based array indexes (integers). A missing value, one of another type and a malformed document give
/// NULL; see <see cref="JsonKernel"/> for how values are read.
/// </summary>
internal static class JsonFunctions
{
    private const string Path = "json VARCHAR, path (key VARCHAR | index BIGINT)...";

    public static void Register(FunctionRegistry r)
    {
        Add(r, "json_get", JsonResult.Json, SqlType.Varchar, "the value at the path as JSON text; NULL where it is missing or JSON null (also json -> key)");
        Add(r, "json_get_json", JsonResult.RawJson, SqlType.Varchar, "the value at the path as JSON text, JSON null as 'null'");
        Add(r, "json_as_text", JsonResult.Text, SqlType.Varchar, "a string at the path as its text, any other value as JSON text; NULL where missing or JSON null (also json ->> key)");
        Add(r, "json_get_str", JsonResult.String, SqlType.Varchar, "the string at the path; NULL where it is missing or not a string");
        Add(r, "json_get_int", JsonResult.Int, SqlType.BigInt, "the integer at the path (or a string holding one); NULL where it is missing, not an integer or out of BIGINT's range");
        Add(r, "json_get_float", JsonResult.Float, SqlType.Double, "the number at the path (or a string holding one) as a DOUBLE; NULL where it is missing or not a number");
        Add(r, "json_get_bool", JsonResult.Bool, SqlType.Boolean, "true or false at the path (or the string 'true' or 'false'); NULL otherwise");
        Add(r, "json_length", JsonResult.Length, SqlType.BigInt, "the elements of the array or members of the object at the path; NULL where it is missing or neither");
        r.Alias("json_len", "json_length");
        Add(r, "json_contains", JsonResult.Contains, SqlType.Boolean, "whether the path finds a value (JSON null included); false for a malformed document");
    }

    private static void Add(FunctionRegistry r, string name, JsonResult result, SqlType returns, string description) =>
        r.Add(new ScalarFunction(name, "json", description, resolver: a => Resolve(a, result, returns), signatures: $"{name}({Path}) -> {returns}"));

    private static FunctionBinding? Resolve(IReadOnlyList<ArgumentInfo> arguments, JsonResult result, SqlType returns)
    {
        if (arguments.Count == 0 || ScalarFunction.ConversionCost(arguments[0], SqlType.Varchar) == int.MaxValue) return null;
        var parameters = new SqlType[arguments.Count];
        parameters[0] = SqlType.Varchar;
        for (int i = 1; i < arguments.Count; i++)
        {
            var type = arguments[i].Type;
            parameters[i] = type.Kind is SqlTypeKind.Varchar or SqlTypeKind.Null ? SqlType.Varchar
                : type.IsInteger ? SqlType.BigInt
                : throw new ArgumentRefusedException(i, $"a JSON path step is an object key (VARCHAR) or an array index (an integer), not {type}");
        }
        // NULL where the path finds nothing, whatever the arguments' nullability
        return new FunctionBinding(parameters, returns, (k, t) => new JsonKernel(k, t, result), PropagatesNull: false);
    }

    /// <summary>
    /// DataFusion's rewrites of a json_get call, which the binder applies: <c>json_get(j, 'a')::BIGINT</c> reads the
    /// value as json_get_int would (and so for VARCHAR, DOUBLE, REAL, DECIMAL and BOOLEAN), rather than casting its
    /// JSON text; the cast's type when it is another.
    /// </summary>
    public static string? TypedGetter(SqlType castTo) => castTo.Kind switch
    {
        SqlTypeKind.Varchar => "json_get_str",
        SqlTypeKind.Integer or SqlTypeKind.BigInt => "json_get_int",
        SqlTypeKind.Double or SqlTypeKind.Real or SqlTypeKind.Decimal => "json_get_float",
        SqlTypeKind.Boolean => "json_get_bool",
        _ => null,
    };

    public static bool IsJsonGet(BoundExpression e) => e is BoundExpression.Call { Function.Name: "json_get" };

    /// <summary>
    /// <c>json_get(json_get(j, 'a'), 'b')</c> (and <c>j -&gt; 'a' -&gt; 'b'</c>, and the typed getters over json_get)
    /// reads the document once, as <c>f(j, 'a', 'b')</c>, when every step is a constant (DataFusion's rewrite): the
    /// same answer, since json_get gives the inner value's own text and NULL where it finds none or JSON null. Not
    /// json_contains (NULL of a NULL, where the flat call would say false), nor json_get_json with no steps of its own
    /// (NULL of JSON null, where the flat call would say 'null').
    /// </summary>
    public static IReadOnlyList<BoundExpression>? Flatten(ScalarFunction function, IReadOnlyList<BoundExpression> arguments)
    {
        if (function.Family != "json" || function.Name == "json_contains" || (function.Name == "json_get_json" && arguments.Count == 1)) return null;
        if (arguments.Count == 0 || arguments[0] is not BoundExpression.Call inner || !IsJsonGet(inner)) return null;
        if (!inner.Arguments.Skip(1).Concat(arguments.Skip(1)).All(a => a is BoundExpression.Literal { Value: not null })) return null;
        return [.. inner.Arguments, .. arguments.Skip(1)];
    }
}
