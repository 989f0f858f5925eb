namespace DataPlane.Iceberg.Types;

/// <summary>An Iceberg type: a primitive, or a struct, list or map whose nested fields carry ids.</summary>
public abstract class IcebergType : IEquatable<IcebergType>
{
    public abstract TypeId TypeId { get; }

    public bool IsPrimitive => this is PrimitiveType;
    public bool IsNested => !IsPrimitive;

    public abstract bool Equals(IcebergType? other);
    public override bool Equals(object? obj) => obj is IcebergType t && Equals(t);
    public abstract override int GetHashCode();

    public static bool operator ==(IcebergType? a, IcebergType? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(IcebergType? a, IcebergType? b) => !(a == b);
}
