using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;

namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// One Arrow buffer of a column being parsed (fixed-width values, offsets or string bytes), grown by doubling and kept
/// across requests (cleared, not freed). Arrow's own <c>ArrowBuffer.Builder</c> goes through a span, a capacity check
/// and a cast on every append, which cost more than reading the JSON value did.
/// </summary>
internal sealed class ValueBuffer
{
    private byte[] _bytes = new byte[4096];
    private int _length;

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append<T>(T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (_bytes.Length - _length < size)
            Grow(size);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_bytes), _length), value);
        _length += size;
    }

    public void Append(ReadOnlySpan<byte> value)
    {
        if (_bytes.Length - _length < value.Length)
            Grow(value.Length);
        value.CopyTo(_bytes.AsSpan(_length));
        _length += value.Length;
    }

    public void AppendZeros(int count)
    {
        if (_bytes.Length - _length < count)
            Grow(count);
        _bytes.AsSpan(_length, count).Clear();
        _length += count;
    }

    /// <summary>The bytes written as an Arrow buffer over this memory (no copy), valid until the next append or <see cref="Clear"/>.</summary>
    public ArrowBuffer View() => new(_bytes.AsMemory(0, _length));

    public void Clear() => _length = 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int needed) => System.Array.Resize(ref _bytes, Math.Max(checked(_bytes.Length * 2), checked(_length + needed)));
}
