using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// Builds a VARCHAR (or BLOB) column from UTF-8 bytes row by row; grows by doubling, no per-row allocation. Usually
/// one value per row of a batch; more (the elements of lists) grow the offsets too.
/// </summary>
internal sealed class Utf8Builder
{
    private int[] _offsets;
    private byte[] _bytes;
    private byte[] _validity;
    private int _count;
    private int _length;
    private bool _anyNull;

    public Utf8Builder(int rows, int bytesHint)
    {
        _offsets = new int[rows + 1];
        _bytes = new byte[Math.Max(16, bytesHint)];
        _validity = new byte[(rows + 7) / 8];
    }

    /// <summary>Space for <paramref name="size"/> more bytes; write into it, then <see cref="Commit"/>.</summary>
    public Span<byte> Reserve(int size)
    {
        if (_length + size > _bytes.Length)
        {
            long wanted = Math.Max((long)_bytes.Length * 2, (long)_length + size);
            if (wanted > Array.MaxLength) throw new InvalidOperationException("a string column of one batch passed 2 GB");
            Array.Resize(ref _bytes, (int)wanted);
        }
        return _bytes.AsSpan(_length, size);
    }

    public void Commit(int written)
    {
        if (_count + 1 == _offsets.Length) Grow();
        _length += written;
        Vectors.Set(_validity, _count);
        _offsets[++_count] = _length;
    }

    public void Append(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Reserve(value.Length));
        Commit(value.Length);
    }

    public void AppendNull()
    {
        if (_count + 1 == _offsets.Length) Grow();
        _anyNull = true;
        _offsets[++_count] = _length;
    }

    private void Grow()
    {
        Array.Resize(ref _offsets, _offsets.Length * 2);
        Array.Resize(ref _validity, (_offsets.Length + 7) / 8);
    }

    public IArrowArray Build(bool binary = false)
    {
        int nulls = _anyNull ? Vectors.CountNulls(_validity, _count) : 0;
        var offsets = new byte[(_count + 1) * 4];
        Buffer.BlockCopy(_offsets, 0, offsets, 0, offsets.Length);
        var data = new ArrayData(binary ? BinaryType.Default : StringType.Default, _count, nulls, 0,
            [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(_validity), new ArrowBuffer(offsets), new ArrowBuffer(_bytes.AsMemory(0, _length))]);
        return ArrowArrayFactory.BuildArray(data);
    }
}
