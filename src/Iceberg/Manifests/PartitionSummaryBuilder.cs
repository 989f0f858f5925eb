using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Manifests;

/// <summary>Accumulates the manifest list's per-field partition summaries (null/NaN presence, lower/upper bounds).</summary>
internal sealed class PartitionSummaryBuilder(StructType partitionType)
{
    private readonly bool[] _containsNull = new bool[partitionType.Fields.Count];
    private readonly bool[] _containsNan = new bool[partitionType.Fields.Count];
    private readonly object?[] _min = new object?[partitionType.Fields.Count];
    private readonly object?[] _max = new object?[partitionType.Fields.Count];

    public void Add(PartitionData partition)
    {
        for (var i = 0; i < _min.Length; i++)
        {
            var v = partition[i];
            if (v is null)
            {
                _containsNull[i] = true;
                continue;
            }
            if (v is double d && double.IsNaN(d) || v is float f && float.IsNaN(f))
            {
                _containsNan[i] = true;
                continue;
            }
            var type = (PrimitiveType)partitionType.Fields[i].Type;
            if (_min[i] is null || ValueComparer.Compare(type, v, _min[i]!) < 0) _min[i] = v;
            if (_max[i] is null || ValueComparer.Compare(type, v, _max[i]!) > 0) _max[i] = v;
        }
    }

    public IReadOnlyList<FieldSummary> Build() => partitionType.Fields.Select((f, i) =>
    {
        var type = (PrimitiveType)f.Type;
        return new FieldSummary(_containsNull[i], _containsNan[i],
            _min[i] is null ? null : Conversions.ToBytes(type, _min[i]!),
            _max[i] is null ? null : Conversions.ToBytes(type, _max[i]!));
    }).ToList();
}
