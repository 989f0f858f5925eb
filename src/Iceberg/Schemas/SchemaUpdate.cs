using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Schemas;

/// <summary>
/// Schema evolution (table spec, "Schema Evolution"): add, rename, drop, move columns (top-level or nested),
/// widen types as the spec allows for v1/v2 (int to long, float to double, decimal precision), make columns
/// optional, set identifier fields. New fields get ids above the table's last-column-id, so ids are never reused.
/// Column names are resolved against the schema as changed so far.
/// </summary>
public sealed class SchemaUpdate
{
    private Schema _current;
    private int _lastColumnId;
    private List<int> _identifierIds;

    public SchemaUpdate(Schema baseSchema, int lastColumnId)
    {
        _current = baseSchema;
        _lastColumnId = Math.Max(lastColumnId, baseSchema.HighestFieldId);
        _identifierIds = baseSchema.IdentifierFieldIds.ToList();
    }

    public int LastColumnId => _lastColumnId;

    /// <summary>Adds an optional column at the end of the table (or of struct <paramref name="parent"/>).</summary>
    public SchemaUpdate AddColumn(string name, IcebergType type, string? doc = null, string? parent = null) =>
        Add(parent, name, type, required: false, doc, null);

    /// <summary>Adds a required column; existing rows need a value, so an initial default (JSON single value) is mandatory.</summary>
    public SchemaUpdate AddRequiredColumn(string name, IcebergType type, string initialDefaultJson, string? doc = null, string? parent = null) =>
        Add(parent, name, type, required: true, doc, initialDefaultJson);

    public SchemaUpdate RenameColumn(string name, string newName)
    {
        var field = _current.Field(name);
        if (newName.Contains('.')) throw new ArgumentException($"New column name '{newName}' must not contain '.'.");
        var siblingName = Sibling(name, newName);
        if (_current.FindField(siblingName) is not null)
            throw new ArgumentException($"Cannot rename '{name}' to '{newName}': a column '{siblingName}' already exists.");
        return Replace(field.Id, f => f with { Name = newName });
    }

    public SchemaUpdate DeleteColumn(string name)
    {
        var field = _current.Field(name);
        if (_identifierIds.Contains(field.Id))
            throw new ArgumentException($"Cannot delete identifier column '{name}'; change the identifier fields first.");
        Apply(f => f.Id == field.Id ? null : f, (_, fields) => fields);
        return this;
    }

    /// <summary>Widens a primitive column: int to long, float to double, decimal(P,S) to decimal(P',S) with P' &gt; P.</summary>
    public SchemaUpdate UpdateColumn(string name, PrimitiveType newType)
    {
        var field = _current.Field(name);
        if (field.Type.Equals(newType)) return this;
        if (field.Type is not PrimitiveType old || !CanPromote(old, newType))
            throw new ArgumentException($"Cannot change column '{name}' from {field.Type} to {newType}; allowed: int to long, float to double, decimal(P,S) to decimal(P',S) with P' > P.");
        return Replace(field.Id, f => f with { Type = newType });
    }

    public SchemaUpdate UpdateColumnDoc(string name, string? doc) => Replace(_current.Field(name).Id, f => f with { Doc = doc });

    public SchemaUpdate MakeColumnOptional(string name)
    {
        var field = _current.Field(name);
        if (_identifierIds.Contains(field.Id))
            throw new ArgumentException($"Cannot make identifier column '{name}' optional.");
        return Replace(field.Id, f => f with { Required = false });
    }

    public SchemaUpdate MoveFirst(string name) => Move(name, null, after: false);
    public SchemaUpdate MoveBefore(string name, string beforeName) => Move(name, beforeName, after: false);
    public SchemaUpdate MoveAfter(string name, string afterName) => Move(name, afterName, after: true);

    public SchemaUpdate SetIdentifierFields(params string[] names)
    {
        _identifierIds = names.Select(n => _current.Field(n).Id).ToList();
        _ = new Schema(_current.SchemaId, _current.AsStruct, _identifierIds); // validates them
        return this;
    }

    /// <summary>The evolved schema with <paramref name="newSchemaId"/>, and the new last-column-id.</summary>
    public (Schema Schema, int LastColumnId) Apply(int newSchemaId) =>
        (new Schema(newSchemaId, _current.AsStruct, _identifierIds), _lastColumnId);

    public static bool CanPromote(PrimitiveType from, PrimitiveType to) => (from.TypeId, to.TypeId) switch
    {
        (TypeId.Int, TypeId.Long) => true,
        (TypeId.Float, TypeId.Double) => true,
        (TypeId.Decimal, TypeId.Decimal) => ((DecimalType)to).Scale == ((DecimalType)from).Scale && ((DecimalType)to).Precision > ((DecimalType)from).Precision,
        _ => from.Equals(to),
    };

    private SchemaUpdate Add(string? parent, string name, IcebergType type, bool required, string? doc, string? initialDefault)
    {
        if (name.Contains('.')) throw new ArgumentException($"Column name '{name}' must not contain '.'; use the parent argument for nested columns.");
        int? ownerId = null;
        if (parent is not null)
        {
            var p = _current.Field(parent);
            ownerId = p.Type switch
            {
                StructType => p.Id,
                ListType { ElementType: StructType } l => l.ElementId,
                MapType { ValueType: StructType } m => m.ValueId,
                _ => throw new ArgumentException($"Cannot add '{name}' to '{parent}': it is a {p.Type}, not a struct."),
            };
        }
        var fullName = parent is null ? name : (_current.FindColumnName(ownerId!.Value) ?? parent) + "." + name;
        if (_current.FindField(fullName) is not null)
            throw new ArgumentException($"Cannot add column '{fullName}': it already exists.");
        var field = new NestedField(++_lastColumnId, name, required, AssignFreshIds(type), doc, initialDefault, initialDefault);
        Apply(f => f, (owner, fields) =>
        {
            if (owner == ownerId) fields.Add(field);
            return fields;
        });
        return this;
    }

    private SchemaUpdate Move(string name, string? referenceName, bool after)
    {
        var field = _current.Field(name);
        var parent = _current.ParentId(field.Id);
        int? referenceId = null;
        if (referenceName is not null)
        {
            var reference = _current.Field(referenceName);
            if (reference.Id == field.Id) throw new ArgumentException($"Cannot move '{name}' relative to itself.");
            if (_current.ParentId(reference.Id) != parent)
                throw new ArgumentException($"Cannot move '{name}' next to '{referenceName}': they are not in the same struct.");
            referenceId = reference.Id;
        }
        // Nested struct fields are owned by their struct column (or list element / map value) id.
        var owner = parent;
        Apply(f => f, (o, fields) =>
        {
            if (o != owner || !fields.Any(f => f.Id == field.Id)) return fields;
            var moving = fields.First(f => f.Id == field.Id);
            fields.Remove(moving);
            var at = referenceId is null ? 0 : fields.FindIndex(f => f.Id == referenceId) + (after ? 1 : 0);
            fields.Insert(at, moving);
            return fields;
        });
        return this;
    }

    private SchemaUpdate Replace(int id, Func<NestedField, NestedField> change)
    {
        Apply(f => f.Id == id ? change(f) : f, (_, fields) => fields);
        return this;
    }

    private void Apply(Func<NestedField, NestedField?> fieldFn, Func<int?, List<NestedField>, List<NestedField>> structFn)
    {
        var root = (StructType)Rebuild(_current.AsStruct, null, fieldFn, structFn);
        _current = new Schema(_current.SchemaId, root, _identifierIds.Where(id => Contains(root, id)));
    }

    private static bool Contains(StructType root, int id) => new Schema(0, root).FindField(id) is not null;

    private static IcebergType Rebuild(IcebergType type, int? ownerId, Func<NestedField, NestedField?> fieldFn, Func<int?, List<NestedField>, List<NestedField>> structFn)
    {
        switch (type)
        {
            case StructType s:
            {
                var fields = new List<NestedField>();
                foreach (var f in s.Fields)
                    if (RebuildField(f, fieldFn, structFn) is { } nf) fields.Add(nf);
                return new StructType(structFn(ownerId, fields));
            }
            case ListType l:
            {
                var e = RebuildField(l.ElementField, fieldFn, structFn) ?? throw new ArgumentException("Cannot delete a list element; delete the list.");
                return new ListType(e.Id, e.Required, e.Type);
            }
            case MapType m:
            {
                var k = RebuildField(m.KeyField, fieldFn, structFn) ?? throw new ArgumentException("Cannot delete a map key; delete the map.");
                var v = RebuildField(m.ValueField, fieldFn, structFn) ?? throw new ArgumentException("Cannot delete a map value; delete the map.");
                return new MapType(k.Id, k.Type, v.Id, v.Required, v.Type);
            }
            default:
                return type;
        }
    }

    private static NestedField? RebuildField(NestedField f, Func<NestedField, NestedField?> fieldFn, Func<int?, List<NestedField>, List<NestedField>> structFn) =>
        fieldFn(f with { Type = Rebuild(f.Type, f.Id, fieldFn, structFn) });

    private IcebergType AssignFreshIds(IcebergType type) => type switch
    {
        StructType s => new StructType(s.Fields.Select(f => f with { Id = ++_lastColumnId, Type = AssignFreshIds(f.Type) }).ToList()),
        ListType l => new ListType(++_lastColumnId, l.ElementRequired, AssignFreshIds(l.ElementType)),
        MapType m => AssignMap(m),
        _ => type,
    };

    private MapType AssignMap(MapType m)
    {
        var keyId = ++_lastColumnId;
        var valueId = ++_lastColumnId;
        return new MapType(keyId, AssignFreshIds(m.KeyType), valueId, m.ValueRequired, AssignFreshIds(m.ValueType));
    }

    private static string Sibling(string dottedName, string newName)
    {
        var dot = dottedName.LastIndexOf('.');
        return dot < 0 ? newName : dottedName[..(dot + 1)] + newName;
    }
}
