namespace DataPlane.Database.Execution;

/// <summary>
/// SQL text (one or more statements) with its parameters: positional (bound to ?, ?NNN in order)
/// or named (bound to :name, @name, $name; keys may omit the prefix). Values are long, double,
/// string, byte[] or null.
/// </summary>
public sealed record SqlStatement(string Sql, IReadOnlyList<object?>? Positional = null, IReadOnlyDictionary<string, object?>? Named = null);
