using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// One array from several of the same length, row i taken from <c>sources[choice[i]]</c> (choice -1 is NULL): how
/// CASE and COALESCE assemble the branches they evaluated.
/// </summary>
internal static class Interleave
{
    public static IArrowArray Pick(SqlType type, IReadOnlyList<IArrowArray> sources, int[] choice, int n)
    {
        var validity = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++)
            if (choice[i] >= 0 && sources[choice[i]].IsValid(i)) Vectors.Set(validity, i);
        switch (type.Kind)
        {
            case SqlTypeKind.Boolean or SqlTypeKind.Null:
            {
                var bits = new byte[(n + 7) / 8];
                for (int i = 0; i < n; i++)
                    if (choice[i] >= 0 && ((BooleanArray)sources[choice[i]]).GetValue(i) == true) Vectors.Set(bits, i);
                return Vectors.Boolean(bits, validity, n);
            }
            case SqlTypeKind.Integer or SqlTypeKind.Date or SqlTypeKind.Real: return Fixed<int>(type, sources, choice, validity, n);
            case SqlTypeKind.BigInt or SqlTypeKind.Double or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz: return Fixed<long>(type, sources, choice, validity, n);
            case SqlTypeKind.Decimal or SqlTypeKind.Interval or SqlTypeKind.Uuid: return Fixed<Int128>(type, sources, choice, validity, n);
            case SqlTypeKind.Varchar or SqlTypeKind.Blob:
            {
                var builder = new Utf8Builder(n, 64);
                for (int i = 0; i < n; i++)
                {
                    if (!Vectors.Get(validity, i)) builder.AppendNull();
                    else builder.Append(((BinaryArray)sources[choice[i]]).GetBytes(i));
                }
                return builder.Build(binary: type.Kind == SqlTypeKind.Blob);
            }
            default:
            {
                // nested values: rare in CASE; assembled value by value
                var values = new object?[n];
                for (int i = 0; i < n; i++)
                    values[i] = Vectors.Get(validity, i) ? ValueArrays.Get(sources[choice[i]], type, i) : null;
                return ValueArrays.FromValues(type, values);
            }
        }
    }

    private static IArrowArray Fixed<T>(SqlType type, IReadOnlyList<IArrowArray> sources, int[] choice, byte[] validity, int n) where T : unmanaged
    {
        var bytes = Vectors.Allocate<T>(n, out var output);
        for (int s = 0; s < sources.Count; s++)
        {
            var values = Vectors.Values<T>(sources[s]);
            for (int i = 0; i < n; i++)
                if (choice[i] == s) output[i] = values[i];
        }
        return Vectors.Fixed(type, bytes, validity, n);
    }
}
