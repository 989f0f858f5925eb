using System.Buffers;
using Apache.Arrow;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>Which rows of an array are null, by its own validity or an enclosing struct's, in a pooled buffer.</summary>
internal readonly struct NullMask : IDisposable
{
    private readonly bool[] _rented;
    private readonly int _length;

    public NullMask(IArrowArray array, ReadOnlySpan<bool> ancestorNull)
    {
        _length = array.Length;
        _rented = ArrayPool<bool>.Shared.Rent(_length);
        for (int i = 0; i < _length; i++)
        {
            _rented[i] = (!ancestorNull.IsEmpty && ancestorNull[i]) || array.IsNull(i);
            if (_rented[i]) Count++;
        }
    }

    public int Count { get; }
    public ReadOnlySpan<bool> Span => _rented.AsSpan(0, _length);

    public void Dispose() => ArrayPool<bool>.Shared.Return(_rented);
}
