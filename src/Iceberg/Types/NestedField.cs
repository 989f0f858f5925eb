namespace DataPlane.Iceberg.Types;

/// <summary>
/// A named, id-carrying field of a struct (a schema column). Defaults are kept as their JSON single-value
/// text (Appendix D) so metadata round-trips byte for byte without this library interpreting every type.
/// </summary>
public sealed record NestedField(
    int Id,
    string Name,
    bool Required,
    IcebergType Type,
    string? Doc = null,
    string? InitialDefaultJson = null,
    string? WriteDefaultJson = null)
{
    public bool IsOptional => !Required;

    public static NestedField Optional(int id, string name, IcebergType type, string? doc = null) => new(id, name, false, type, doc);
    public static NestedField Require(int id, string name, IcebergType type, string? doc = null) => new(id, name, true, type, doc);

    public override string ToString() => $"{Id}: {Name}: {(Required ? "required" : "optional")} {Type}";
}
