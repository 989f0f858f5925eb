// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using System.IO.Hashing;
using Apache.Arrow;
using DataPlane.Iceberg.Partitioning;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// murmur3(x): Iceberg's bucket hash (spec Appendix B), computed by the table format's own <see cref="Murmur3"/>, so
/// that its low 31 bits modulo N are always the bucket[N] partition of x. xxhash64(x) and hash(x): XXH64
/// (seed 0, System.IO.Hashing) of the same bytes, as a BIGINT. Any flat value Appendix B hashes (not INTERVAL, lists,
/// structs, maps); NULL gives NULL.
/// </summary>
internal static class HashFunctions
{
    private const string Hashable = "BOOLEAN, INTEGER, BIGINT, FLOAT, DOUBLE, DECIMAL, DATE, TIME, TIMESTAMP, TIMESTAMP WITH TIME ZONE, VARCHAR, BLOB, UUID";

    public static void Register(FunctionRegistry r)
    {
        r.Add(new ScalarFunction("murmur3", "hashing",
            "Iceberg's bucket hash (32-bit Murmur3 x86, seed 0, of the spec's single-value bytes): integers, dates, times and timestamps as an 8-byte little-endian long, strings as UTF-8",
            resolver: a => Resolve(a, SqlType.Integer, (k, t) => new RowKernel<int, Murmur3Hash>(k, t, default)), signatures: $"murmur3({Hashable}) -> INTEGER"));
        r.Add(new ScalarFunction("xxhash64", "hashing", "XXH64 (seed 0) of the bytes murmur3 hashes, as a BIGINT (the unsigned hash's two's complement)",
            resolver: a => Resolve(a, SqlType.BigInt, (k, t) => new RowKernel<long, XxHash64Hash>(k, t, default)), signatures: $"xxhash64({Hashable}) -> BIGINT"));
        r.Add(new ScalarFunction("hash", "hashing", "hash(x): xxhash64(x)",
            resolver: a => Resolve(a, SqlType.BigInt, (k, t) => new RowKernel<long, XxHash64Hash>(k, t, default)), signatures: $"hash({Hashable}) -> BIGINT"));
    }

    private static FunctionBinding? Resolve(IReadOnlyList<ArgumentInfo> arguments, SqlType returns, KernelFactory compile)
    {
        if (arguments.Count != 1) return null;
        var type = arguments[0].Type;
        if (type.Kind == SqlTypeKind.Null) type = SqlType.Varchar;
        if (type.IsNested || type.Kind is SqlTypeKind.Interval) return null;
        return new FunctionBinding([type], returns, compile);
    }

    private struct Murmur3Hash : IRowFunction<int>
    {
        private IArrowArray _v;
        public void Prepare(IArrowArray[] args) => _v = args[0];
        public readonly bool Apply(int row, out int value) { value = Murmur3.HashValue(_v, row); return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    private struct XxHash64Hash : IRowFunction<long>
    {
        private IArrowArray _v;
        public void Prepare(IArrowArray[] args) => _v = args[0];
        public readonly bool Apply(int row, out long value)
        {
            Span<byte> scratch = stackalloc byte[16];
            value = unchecked((long)XxHash64.HashToUInt64(Murmur3.HashInput(_v, row, scratch)));
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }
}
