using System.Runtime.CompilerServices;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>A total order on one representation, as a struct the comparison kernels are specialised for.</summary>
internal interface IOrder<T>
{
    static abstract int Compare(T a, T b);
}

/// <summary>What a comparison result means for one operator (=, &lt;&gt;, &lt;, ...).</summary>
internal interface IComparisonTest
{
    static abstract bool Test(int comparison);
}

internal struct OrderInt : IOrder<int> { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int Compare(int a, int b) => a.CompareTo(b); }
internal struct OrderLong : IOrder<long> { [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int Compare(long a, long b) => a.CompareTo(b); }
internal struct OrderInt128 : IOrder<Int128> { public static int Compare(Int128 a, Int128 b) => a.CompareTo(b); }
internal struct OrderInterval : IOrder<IntervalValue> { public static int Compare(IntervalValue a, IntervalValue b) => a.Normalized.CompareTo(b.Normalized); }

/// <summary>DuckDB's order of floating point: NaN equals NaN and is above every other value; -0 equals 0.</summary>
internal struct OrderDouble : IOrder<double>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Compare(double a, double b)
    {
        if (a < b) return -1;
        if (a > b) return 1;
        if (a == b) return 0;
        bool an = double.IsNaN(a), bn = double.IsNaN(b);
        return an == bn ? 0 : an ? 1 : -1;
    }
}

internal struct OrderFloat : IOrder<float>
{
    public static int Compare(float a, float b) => OrderDouble.Compare(a, b);
}

internal struct TestEqual : IComparisonTest { public static bool Test(int c) => c == 0; }
internal struct TestNotEqual : IComparisonTest { public static bool Test(int c) => c != 0; }
internal struct TestLess : IComparisonTest { public static bool Test(int c) => c < 0; }
internal struct TestLessOrEqual : IComparisonTest { public static bool Test(int c) => c <= 0; }
internal struct TestGreater : IComparisonTest { public static bool Test(int c) => c > 0; }
internal struct TestGreaterOrEqual : IComparisonTest { public static bool Test(int c) => c >= 0; }
