using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Kernels;

/// <summary>
/// <c>x % c</c> by a constant multiplies by c's magic number instead of dividing: its remainders must be the division
/// instruction's for every dividend, the extremes included, and for divisors of every size and sign.
/// </summary>
public sealed class ModuloByConstantKernelTests
{
    [Fact]
    public void Remainders_are_the_division_instructions_for_extreme_and_random_values()
    {
        var random = new Random(16);
        var divisors = new List<long> { 1, -1, 2, -2, 3, 7, 10, 123, -123, 1024, 1L << 31, int.MinValue, int.MaxValue, 1L << 62, (1L << 62) + 1, long.MaxValue, -long.MaxValue };
        for (int i = 0; i < 300; i++)
        {
            long d = random.NextInt64(long.MinValue + 1, long.MaxValue) >> random.Next(0, 63);
            if (d != 0) divisors.Add(d);
        }
        foreach (long d in divisors)
        {
            var kernel = new ModuloByConstantKernel(new ConstantKernel(0L, SqlType.BigInt), d, SqlType.BigInt);
            var dividends = new List<long> { 0, 1, -1, long.MinValue, long.MaxValue, long.MinValue + 1, long.MaxValue - 1, int.MinValue, int.MaxValue };
            for (long k = -2; k <= 2; k++)
                dividends.AddRange([unchecked(d * k), unchecked(d * k + 1), unchecked(d * k - 1), long.MaxValue / d * d]);
            for (int i = 0; i < 500; i++)
                dividends.Add(random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(0, 63));
            foreach (long a in dividends)
                Assert.True((d == -1 ? 0 : a % d) == kernel.Remainder(a), $"{a} % {d}: expected {(d == -1 ? 0 : a % d)}, got {kernel.Remainder(a)}");
        }
    }

    [Fact]
    public void Zero_and_the_smallest_bigint_are_left_to_the_division_kernel()
    {
        Assert.False(ModuloByConstantKernel.Takes(0L));
        Assert.False(ModuloByConstantKernel.Takes(0));
        Assert.False(ModuloByConstantKernel.Takes(long.MinValue));
        Assert.True(ModuloByConstantKernel.Takes(int.MinValue));
        Assert.True(ModuloByConstantKernel.Takes(-1L));
    }
}
