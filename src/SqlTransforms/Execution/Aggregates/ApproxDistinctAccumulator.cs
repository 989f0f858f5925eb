using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// approx_distinct (approx_count_distinct): HyperLogLog with 2^10 one-byte registers per group (about 3% standard
/// error; small counts come out exact or nearly, by linear counting), over a 64-bit hash of each value's key bytes
/// (<see cref="KeyCodec"/>: -0.0 and 0.0 count once). Registers merge by maximum, so panes and sessions combine
/// exactly. NULLs are not counted.
/// </summary>
internal sealed class ApproxDistinctAccumulator(SqlType type) : IGroupAccumulator
{
    private const int Precision = 10;
    private const int Registers = 1 << Precision;

    private readonly KeyCodec _codec = new([type]);
    private readonly IArrowArray[] _column = new IArrowArray[1];
    private byte[]?[] _registers = new byte[]?[16];

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _registers, groupCount);
        _column[0] = input!;
        bool nulls = input!.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0 || (nulls && input.IsNull(i))) continue;
            ulong hash = Hash(_codec.Encode(_column, i));
            int index = (int)(hash >> (64 - Precision));
            byte rank = (byte)(System.Numerics.BitOperations.LeadingZeroCount((hash << Precision) | (1UL << (Precision - 1))) + 1);
            var registers = _registers[g] ??= new byte[Registers];
            if (rank > registers[index]) registers[index] = rank;
        }
    }

    /// <summary>FNV-1a over the bytes, then MurmurHash3's finaliser: stable across processes (registers are snapshotted).</summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in bytes) { h ^= b; h *= 1099511628211UL; }
        h ^= h >> 33; h *= 0xff51afd7ed558ccdUL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53UL; h ^= h >> 33;
        return h;
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var bytes = Vectors.Allocate<long>(groups.Length, out var values);
        for (int i = 0; i < groups.Length; i++)
            values[i] = groups[i] < _registers.Length && _registers[groups[i]] is { } r ? Estimate(r) : 0;
        return Vectors.Fixed(SqlType.BigInt, bytes, null, groups.Length);
    }

    private static long Estimate(byte[] registers)
    {
        double sum = 0;
        int zeros = 0;
        foreach (byte r in registers)
        {
            sum += Math.ScaleB(1.0, -r);
            if (r == 0) zeros++;
        }
        double alpha = 0.7213 / (1 + 1.079 / Registers);
        double estimate = alpha * Registers * Registers / sum;
        if (estimate <= 2.5 * Registers && zeros > 0) estimate = Registers * Math.Log((double)Registers / zeros);
        return (long)Math.Round(estimate);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (ApproxDistinctAccumulator)source;
        GroupArrays.Grow(ref _registers, to + 1);
        if (from >= s._registers.Length || s._registers[from] is not { } theirs) return;
        var ours = _registers[to] ??= new byte[Registers];
        for (int i = 0; i < Registers; i++) if (theirs[i] > ours[i]) ours[i] = theirs[i];
    }

    public void Clear(int group)
    {
        if (group < _registers.Length) _registers[group] = null;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _registers, groupCount);
        for (int g = 0; g < groupCount; g++)
        {
            writer.Write(_registers[g] is not null);
            if (_registers[g] is { } r) writer.Write(r);
        }
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _registers, groupCount);
        for (int g = 0; g < groupCount; g++) _registers[g] = reader.ReadBoolean() ? reader.ReadBytes(Registers) : null;
    }
}
