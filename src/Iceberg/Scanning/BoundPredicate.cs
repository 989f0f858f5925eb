using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Scanning;

/// <summary>A predicate resolved against a schema: the column's field id and type, literals converted to that type.</summary>
internal sealed record BoundPredicate(int FieldId, PrimitiveType Type, PredicateOperation Operation, IReadOnlyList<object> Literals)
{
    public static BoundPredicate Bind(Schema schema, Expression.Predicate p)
    {
        var field = schema.Field(p.Column);
        if (field.Type is not PrimitiveType type)
            throw new ArgumentException($"Cannot filter on '{p.Column}': it is a {field.Type}, not a primitive column.");
        if (p.Operation is not (PredicateOperation.IsNull or PredicateOperation.NotNull) && p.Literals.Count == 0)
            throw new ArgumentException($"Predicate {p} needs a value.");
        return new BoundPredicate(field.Id, type, p.Operation, p.Literals.Select(l => LiteralConverter.To(type, l, p.Column)).ToList());
    }

    public int Compare(object a, object b) => ValueComparer.Compare(Type, a, b);
}
