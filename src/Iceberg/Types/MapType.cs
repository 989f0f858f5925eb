namespace DataPlane.Iceberg.Types;

/// <summary>A map; the key field is always required, the value field may be optional. Both carry ids.</summary>
public sealed class MapType(int keyId, IcebergType keyType, int valueId, bool valueRequired, IcebergType valueType) : IcebergType
{
    public override TypeId TypeId => TypeId.Map;
    public int KeyId { get; } = keyId;
    public IcebergType KeyType { get; } = keyType;
    public int ValueId { get; } = valueId;
    public bool ValueRequired { get; } = valueRequired;
    public IcebergType ValueType { get; } = valueType;
    public NestedField KeyField => new(KeyId, "key", true, KeyType);
    public NestedField ValueField => new(ValueId, "value", ValueRequired, ValueType);

    public override bool Equals(IcebergType? other) =>
        other is MapType m && m.KeyId == KeyId && m.ValueId == ValueId && m.ValueRequired == ValueRequired
        && m.KeyType.Equals(KeyType) && m.ValueType.Equals(ValueType);
    public override int GetHashCode() => HashCode.Combine(KeyId, KeyType, ValueId, ValueRequired, ValueType);
    public override string ToString() => $"map<{KeyType}, {ValueType}>";
}
