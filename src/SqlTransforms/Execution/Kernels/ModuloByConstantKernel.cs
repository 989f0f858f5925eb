using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// INTEGER or BIGINT <c>% c</c> for a constant c other than 0 and BIGINT's minimum: the remainder through a multiply by
/// c's magic number and a shift (Hacker's Delight, chapter 10), as a compiler does for a divisor it knows, where a
/// division instruction per row costs several times more (<c>auction % 123 = 0</c> is Nexmark's selection query).
/// The sign follows the dividend, as <c>%</c> does; NULL in, NULL out; no row can fail.
/// </summary>
internal sealed class ModuloByConstantKernel : Kernel
{
    private readonly Kernel _operand;
    private readonly long _divisor;
    private readonly long _multiplier;
    private readonly int _shift;

    public ModuloByConstantKernel(Kernel operand, long divisor, SqlType type) : base(type)
    {
        if (divisor is 0 or long.MinValue) throw new ArgumentOutOfRangeException(nameof(divisor));
        _operand = operand;
        // a % c == a % -c: the remainder takes the dividend's sign whatever the divisor's.
        _divisor = Math.Abs(divisor);
        if (_divisor >= 2) (_multiplier, _shift) = Magic((ulong)_divisor);
    }

    /// <summary>Whether the kernel takes this divisor: any constant but 0 (which fails rows) and BIGINT's minimum (no absolute value).</summary>
    public static bool Takes(object? divisor) => divisor is long l ? l is not (0 or long.MinValue) : divisor is int i && i != 0;

    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = _operand.Evaluate(context);
        int n = context.Length;
        var validity = Vectors.Validity(input);
        if (Type.Kind == SqlTypeKind.Integer)
        {
            var a = Vectors.Values<int>(input);
            var bytes = Vectors.Allocate<int>(n, out var output);
            for (int i = 0; i < n; i++) output[i] = (int)Remainder(a[i]);
            return Vectors.Fixed(Type, bytes, validity, n);
        }
        else
        {
            var a = Vectors.Values<long>(input);
            var bytes = Vectors.Allocate<long>(n, out var output);
            for (int i = 0; i < n; i++) output[i] = Remainder(a[i]);
            return Vectors.Fixed(Type, bytes, validity, n);
        }
    }

    /// <summary><paramref name="a"/> % the divisor: the quotient is the high half of a * multiplier, shifted and rounded toward zero.</summary>
    internal long Remainder(long a)
    {
        if (_divisor == 1) return 0;
        long q = Math.BigMul(_multiplier, a, out _);
        if (_multiplier < 0) q += a;
        q >>= _shift;
        q += (long)((ulong)q >> 63);
        return a - q * _divisor;
    }

    /// <summary>The magic number and shift of signed division by <paramref name="d"/> (2 to 2^63 - 1), Hacker's Delight figure 10-1 in 64 bits.</summary>
    private static (long Multiplier, int Shift) Magic(ulong d)
    {
        const ulong two63 = 1UL << 63;
        ulong anc = two63 - 1 - two63 % d; // the absolute value of nc
        int p = 63;
        ulong q1 = two63 / anc, r1 = two63 - q1 * anc; // 2^p / |nc| and its remainder
        ulong q2 = two63 / d, r2 = two63 - q2 * d;     // 2^p / d and its remainder
        ulong delta;
        do
        {
            p++;
            q1 *= 2; r1 *= 2;
            if (r1 >= anc) { q1++; r1 -= anc; }
            q2 *= 2; r2 *= 2;
            if (r2 >= d) { q2++; r2 -= d; }
            delta = d - r2;
        } while (q1 < delta || (q1 == delta && r1 == 0));
        return ((long)(q2 + 1), p - 64);
    }
}
