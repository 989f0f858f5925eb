namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// Every function SQL can call, by lower-case name. Each family registers itself from its own file; adding a family
/// is one file with a <c>Register(FunctionRegistry)</c> method and one line in <see cref="Families"/>.
/// Operators (+, =, LIKE, ||) are functions too, under their symbols.
/// </summary>
internal sealed class FunctionRegistry
{
    /// <summary>The families, in the order they register. Add a new family here.</summary>
    private static readonly Action<FunctionRegistry>[] Families =
    [
        ArithmeticOperators.Register,
        ComparisonOperators.Register,
        StringOperators.Register,
        MathFunctions.Register,
        ConditionalFunctions.Register,
        StringFunctions.Register,
        RegexFunctions.Register,
        BinaryFunctions.Register,
        JsonFunctions.Register,
        HashFunctions.Register,
        TimeFunctions.Register,
        ListFunctions.Register,
        StructFunctions.Register,
        AggregateFunctions.Register,
    ];

    private readonly Dictionary<string, ScalarFunction> _scalars = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, AggregateFunction> _aggregates = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Names the binder treats itself (CAST-like forms and table-shaping calls), so that suggestions include them.</summary>
    private readonly HashSet<string> _special = new(StringComparer.OrdinalIgnoreCase) { "coalesce", "nullif", "if", "iff", "unnest", "struct_pack", "named_struct", "list_value" };

    public static FunctionRegistry Default { get; } = Create();

    private static FunctionRegistry Create()
    {
        var registry = new FunctionRegistry();
        foreach (var register in Families) register(registry);
        return registry;
    }

    public ScalarFunction Add(ScalarFunction function)
    {
        if (_scalars.ContainsKey(function.Name) || _aggregates.ContainsKey(function.Name))
            throw new InvalidOperationException($"Function {function.Name} is registered twice.");
        _scalars.Add(function.Name, function);
        return function;
    }

    public void Add(AggregateFunction function)
    {
        if (_scalars.ContainsKey(function.Name) || _aggregates.ContainsKey(function.Name))
            throw new InvalidOperationException($"Function {function.Name} is registered twice.");
        _aggregates.Add(function.Name, function);
    }

    /// <summary>Another name for a registered function (substring for substr).</summary>
    public void Alias(string alias, string name)
    {
        if (_scalars.TryGetValue(name, out var s)) _scalars.Add(alias, s);
        else _aggregates.Add(alias, _aggregates[name]);
    }

    public ScalarFunction? Scalar(string name) => _scalars.GetValueOrDefault(name);
    public AggregateFunction? Aggregate(string name) => _aggregates.GetValueOrDefault(name);

    /// <summary>Every callable name (for "did you mean" suggestions), operators left out.</summary>
    public IEnumerable<string> Names => _scalars.Keys.Concat(_aggregates.Keys).Concat(_special).Where(n => char.IsLetter(n[0]));

    public IEnumerable<ScalarFunction> Scalars => _scalars.Values.Distinct();
    public IEnumerable<AggregateFunction> Aggregates => _aggregates.Values.Distinct();
}
