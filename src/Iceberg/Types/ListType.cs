namespace DataPlane.Iceberg.Types;

/// <summary>A list whose element field has its own id.</summary>
public sealed class ListType(int elementId, bool elementRequired, IcebergType elementType) : IcebergType
{
    public override TypeId TypeId => TypeId.List;
    public int ElementId { get; } = elementId;
    public bool ElementRequired { get; } = elementRequired;
    public IcebergType ElementType { get; } = elementType;
    public NestedField ElementField => new(ElementId, "element", ElementRequired, ElementType);

    public override bool Equals(IcebergType? other) =>
        other is ListType l && l.ElementId == ElementId && l.ElementRequired == ElementRequired && l.ElementType.Equals(ElementType);
    public override int GetHashCode() => HashCode.Combine(ElementId, ElementRequired, ElementType);
    public override string ToString() => $"list<{ElementType}>";
}
