using System.Runtime.CompilerServices;
using Apache.Arrow;

namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// An Arrow bitmap being parsed (a validity bitmap, or boolean values), least significant bit first, kept across
/// requests (cleared, not freed): each byte is zeroed as the first of its bits is appended, so a reused buffer needs
/// no clearing pass.
/// </summary>
internal sealed class BitBuffer
{
    private byte[] _bytes = new byte[512];
    private int _length;
    private int _unset;

    /// <summary>Bits appended so far.</summary>
    public int Length => _length;

    /// <summary>How many of them are 0 (for a validity bitmap, the nulls).</summary>
    public int UnsetCount => _unset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(bool bit)
    {
        int index = _length;
        int at = index >> 3;
        if ((index & 7) == 0)
        {
            if (at == _bytes.Length)
                System.Array.Resize(ref _bytes, checked(_bytes.Length * 2));
            _bytes[at] = 0;
        }
        if (bit)
            _bytes[at] |= (byte)(1 << (index & 7));
        else
            _unset++;
        _length = index + 1;
    }

    /// <summary>The bits as an Arrow buffer over this memory (no copy), valid until the next append or <see cref="Clear"/>.</summary>
    public ArrowBuffer View() => new(_bytes.AsMemory(0, (_length + 7) >> 3));

    public void Clear()
    {
        _length = 0;
        _unset = 0;
    }
}
