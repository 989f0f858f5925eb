using System.Text.Json;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Schemas;

/// <summary>
/// A table schema: a struct of columns with a schema id and identifier fields. Every field, nested ones
/// included, can be found by id or by its dotted name (<c>location.lat</c>; list elements as
/// <c>tags.element</c>, map parts as <c>attrs.key</c> / <c>attrs.value</c>).
/// </summary>
public sealed class Schema
{
    private readonly Dictionary<int, NestedField> _byId = new();
    private readonly Dictionary<string, NestedField> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _nameById = new();
    private readonly Dictionary<int, int> _parentById = new();

    public Schema(int schemaId, IEnumerable<NestedField> columns, IEnumerable<int>? identifierFieldIds = null)
        : this(schemaId, new StructType(columns), identifierFieldIds) { }

    public Schema(IEnumerable<NestedField> columns) : this(0, columns) { }

    public Schema(int schemaId, StructType asStruct, IEnumerable<int>? identifierFieldIds = null)
    {
        SchemaId = schemaId;
        AsStruct = asStruct;
        IdentifierFieldIds = (identifierFieldIds ?? []).ToArray();
        Index(asStruct, null, null);
        foreach (var id in IdentifierFieldIds)
        {
            if (!_byId.TryGetValue(id, out var f))
                throw new ArgumentException($"Identifier field id {id} is not a field of the schema.");
            if (!f.Required || !f.Type.IsPrimitive || f.Type.TypeId is TypeId.Float or TypeId.Double)
                throw new ArgumentException($"Identifier field '{FindColumnName(id)}' must be a required primitive that is not float or double; it is {f}.");
        }
    }

    public int SchemaId { get; }
    public StructType AsStruct { get; }
    public IReadOnlyList<NestedField> Columns => AsStruct.Fields;
    public IReadOnlyList<int> IdentifierFieldIds { get; }

    /// <summary>The highest field id used anywhere in the schema (0 when empty).</summary>
    public int HighestFieldId => _byId.Count == 0 ? 0 : _byId.Keys.Max();

    /// <summary>Every field, nested ones included, by id.</summary>
    public IReadOnlyDictionary<int, NestedField> FieldsById => _byId;

    public NestedField? FindField(int id) => _byId.GetValueOrDefault(id);
    public NestedField? FindField(string dottedName) => _byName.GetValueOrDefault(dottedName);
    public string? FindColumnName(int id) => _nameById.GetValueOrDefault(id);

    /// <summary>The id of the struct/list/map field that holds field <paramref name="id"/>; null for top-level columns.</summary>
    public int? ParentId(int id) => _parentById.TryGetValue(id, out var p) ? p : null;

    /// <summary>The field by id, or an error naming the id and the schema.</summary>
    public NestedField Field(int id) => FindField(id) ?? throw new ArgumentException($"No field with id {id} in schema {SchemaId}.");

    public NestedField Field(string dottedName) => FindField(dottedName)
        ?? throw new ArgumentException($"No column '{dottedName}' in schema {SchemaId}; columns: {string.Join(", ", _byName.Keys.Order())}.");

    /// <summary>Same columns and identifier fields; schema ids may differ.</summary>
    public bool SameSchema(Schema other) => AsStruct.Equals(other.AsStruct) && IdentifierFieldIds.Order().SequenceEqual(other.IdentifierFieldIds.Order());

    public Schema WithSchemaId(int schemaId) => new(schemaId, AsStruct, IdentifierFieldIds);

    public string ToJson(bool indented = false) => Json.Write(w => SchemaJson.Write(w, this), indented);
    public static Schema FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return SchemaJson.Read(doc.RootElement);
    }

    public override string ToString() => $"table {{\n  {string.Join("\n  ", Columns)}\n}}";

    private void Index(IcebergType type, string? prefix, int? parent)
    {
        switch (type)
        {
            case StructType s:
                foreach (var f in s.Fields) Add(f, prefix, parent);
                break;
            case ListType l:
                Add(l.ElementField, prefix, parent);
                break;
            case MapType m:
                Add(m.KeyField, prefix, parent);
                Add(m.ValueField, prefix, parent);
                break;
        }
    }

    private void Add(NestedField f, string? prefix, int? parent)
    {
        var name = prefix is null ? f.Name : prefix + "." + f.Name;
        if (!_byId.TryAdd(f.Id, f))
            throw new ArgumentException($"Field id {f.Id} is used twice in the schema ('{_nameById[f.Id]}' and '{name}'); ids must be unique.");
        _byName[name] = f;
        _nameById[f.Id] = name;
        if (parent is { } p) _parentById[f.Id] = p;
        Index(f.Type, name, f.Id);
    }
}
