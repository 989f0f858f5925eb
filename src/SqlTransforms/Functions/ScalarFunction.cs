using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// A scalar function or operator: its name, family (for the docs), and a list of overloads resolved by the usual
/// rules (exact types first, then the fewest implicit conversions), or a resolver of its own for functions generic in
/// their types (COALESCE, GREATEST), or both: the resolver first (DECIMAL arithmetic), the overloads where it gives none. Not deterministic (now(), random()) means never folded to a constant.
/// </summary>
internal sealed class ScalarFunction
{
    private readonly List<Overload> _overloads = [];
    private readonly Func<IReadOnlyList<ArgumentInfo>, FunctionBinding?>? _resolver;

    public ScalarFunction(string name, string family, string description, bool deterministic = true,
        Func<IReadOnlyList<ArgumentInfo>, FunctionBinding?>? resolver = null, string? signatures = null)
    {
        Name = name;
        Family = family;
        Description = description;
        Deterministic = deterministic;
        _resolver = resolver;
        _signatures = signatures;
    }

    private readonly string? _signatures;

    public string Name { get; }
    public string Family { get; }
    public string Description { get; }
    public bool Deterministic { get; }
    public IReadOnlyList<Overload> Overloads => _overloads;

    public ScalarFunction Add(Overload overload)
    {
        _overloads.Add(overload);
        return this;
    }

    public ScalarFunction Add(SqlType[] parameters, SqlType returns, KernelFactory compile, SqlType? variadic = null, bool propagatesNull = true) =>
        Add(new Overload(parameters, returns, compile, variadic, propagatesNull));

    /// <summary>How the function may be called, for messages: <c>abs(INTEGER) -> INTEGER, abs(DOUBLE) -> DOUBLE</c>.</summary>
    public string Signatures => _signatures ?? string.Join(", ", _overloads.Select(o => Name + o));

    /// <summary>The binding for these arguments, or null when none fits.</summary>
    public FunctionBinding? Bind(IReadOnlyList<ArgumentInfo> arguments)
    {
        if (_resolver?.Invoke(arguments) is { } resolved) return resolved;
        Overload? best = null;
        int bestCost = int.MaxValue;
        foreach (var o in _overloads)
        {
            int cost = Cost(o, arguments);
            if (cost < bestCost) { best = o; bestCost = cost; }
        }
        if (best is null) return null;
        var parameters = new SqlType[arguments.Count];
        for (int i = 0; i < parameters.Length; i++)
            parameters[i] = i < best.Parameters.Count ? best.Parameters[i] : best.Variadic!;
        return new FunctionBinding(parameters, best.Returns, best.Compile, best.PropagatesNull);
    }

    /// <summary>How many conversions the arguments need for <paramref name="o"/> (weighted), or int.MaxValue when they do not fit.</summary>
    private static int Cost(Overload o, IReadOnlyList<ArgumentInfo> arguments)
    {
        if (arguments.Count < o.Parameters.Count || (arguments.Count > o.Parameters.Count && o.Variadic is null)) return int.MaxValue;
        int cost = 0;
        for (int i = 0; i < arguments.Count; i++)
        {
            var want = i < o.Parameters.Count ? o.Parameters[i] : o.Variadic!;
            int c = ConversionCost(arguments[i], want);
            if (c == int.MaxValue) return int.MaxValue;
            cost += c;
        }
        return cost;
    }

    public static int ConversionCost(ArgumentInfo argument, SqlType want)
    {
        var have = argument.Type;
        if (have == want) return 0;
        if (have.Kind == SqlTypeKind.Null) return 1;
        if (have.Kind == want.Kind && want.Kind == SqlTypeKind.Decimal) return 1;
        if (argument.IsIntegerLiteral)
        {
            if (want.Kind == SqlTypeKind.Integer && argument.ConstantValue is long v && v is >= int.MinValue and <= int.MaxValue) return 1;
            // wider types for free, but DOUBLE before FLOAT: 65536 / 100 divides DOUBLEs
            if (TypeCoercion.CanImplicitlyCast(have, want)) return want.Kind == SqlTypeKind.Real ? 1 : 0;
        }
        if (TypeCoercion.CanImplicitlyCast(have, want)) return 2 + Distance(have, want);
        if (argument.IsStringLiteral && !want.IsNested) return 20;
        return int.MaxValue;
    }

    /// <summary>Prefers the nearest widening: INTEGER goes to BIGINT before DOUBLE.</summary>
    private static int Distance(SqlType from, SqlType to) =>
        (from.IsInteger || from.Kind == SqlTypeKind.Decimal) && to.Kind == SqlTypeKind.Real ? 10 // integers and decimals go to DOUBLE, not FLOAT (DuckDB: 1 / 3 is a DOUBLE)
        : (int)to.Kind - (int)from.Kind is var d && d > 0 ? d : 5;
}
