// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using System.Buffers.Text;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// Bytes: octet_length, to_hex/from_hex, base64 both ways (DuckDB's: hex is upper case, an odd number of hex digits
/// reads the first as one nibble), and uuid(). Text that is not hex or base64 fails the record.
/// </summary>
internal static class BinaryFunctions
{
    public static void Register(FunctionRegistry r)
    {
        var V = SqlType.Varchar; var B = SqlType.Blob; var L = SqlType.BigInt;
        r.Add(new ScalarFunction("octet_length", "binary", "the number of bytes of a BLOB"))
            .Add([B], L, (a, t) => new RowKernel<long, OctetLength>(a, t, default));
        r.Add(new ScalarFunction("to_hex", "binary", "the bytes of a string or BLOB, or a BIGINT's two's complement, as upper-case hex digits"))
            .Add([V], V, (a, t) => new StringRowKernel<ToHex>(a, t, default))
            .Add([B], V, (a, t) => new StringRowKernel<ToHex>(a, t, default))
            .Add([L], V, (a, t) => new StringRowKernel<ToHex>(a, t, default));
        r.Alias("hex", "to_hex");
        r.Add(new ScalarFunction("from_hex", "binary", "the BLOB that hex digits spell; text that is not hex fails the record"))
            .Add([V], B, (a, t) => new StringRowKernel<FromHex>(a, t, default));
        r.Alias("unhex", "from_hex");
        r.Add(new ScalarFunction("to_base64", "binary", "a BLOB in base64 (RFC 4648, padded)"))
            .Add([B], V, (a, t) => new StringRowKernel<ToBase64>(a, t, default));
        r.Alias("base64", "to_base64");
        r.Add(new ScalarFunction("from_base64", "binary", "the BLOB a base64 text encodes; text that is not base64 fails the record"))
            .Add([V], B, (a, t) => new StringRowKernel<FromBase64>(a, t, default));
        r.Add(new ScalarFunction("uuid", "binary", "a random (version 4) UUID, a new one per record", deterministic: false))
            .Add([], SqlType.Uuid, (a, t) => new UuidKernel());
        r.Alias("gen_random_uuid", "uuid");
    }

    private struct OctetLength : IRowFunction<long>
    {
        private BinaryArray _b;
        public void Prepare(IArrowArray[] args) => _b = (BinaryArray)args[0];
        public readonly bool Apply(int row, out long value) { value = _b.GetValueLength(row); return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    private struct ToHex : IStringRowFunction
    {
        private IArrowArray _v;
        public void Prepare(IArrowArray[] args) => _v = args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            const string digits = "0123456789ABCDEF";
            if (_v is BinaryArray b)
            {
                var bytes = b.GetBytes(row);
                var target = output.Reserve(bytes.Length * 2);
                for (int i = 0; i < bytes.Length; i++) { target[2 * i] = (byte)digits[bytes[i] >> 4]; target[2 * i + 1] = (byte)digits[bytes[i] & 15]; }
                output.Commit(bytes.Length * 2);
                return true;
            }
            // a number: its two's complement without leading zeros (DuckDB: to_hex(255) is FF, to_hex(-1) sixteen Fs)
            ulong v = (ulong)Vectors.Values<long>(_v)[row];
            int count = v == 0 ? 1 : (64 - System.Numerics.BitOperations.LeadingZeroCount(v) + 3) / 4;
            var t = output.Reserve(count);
            for (int i = count - 1; i >= 0; i--, v >>= 4) t[i] = (byte)digits[(int)(v & 15)];
            output.Commit(count);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    private struct FromHex : IStringRowFunction
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            int size = (s.Length + 1) / 2;
            var target = output.Reserve(size);
            // an odd count: the first digit is a byte of its own
            int odd = s.Length % 2, at = 0;
            for (int i = 0; i < s.Length;)
            {
                int high = 0;
                if (!(i == 0 && odd == 1))
                {
                    high = Nibble(s[i++]);
                    if (high < 0) return false;
                }
                int low = Nibble(s[i++]);
                if (low < 0) return false;
                target[at++] = (byte)(high << 4 | low);
            }
            output.Commit(size);
            return true;
        }
        private static int Nibble(byte c) => c switch { >= (byte)'0' and <= (byte)'9' => c - '0', >= (byte)'a' and <= (byte)'f' => c - 'a' + 10, >= (byte)'A' and <= (byte)'F' => c - 'A' + 10, _ => -1 };
        public readonly RowErrorReason Reason => RowErrorReason.InvalidCast;
        public readonly string Describe(int row) => $"from_hex('{Preview(_s.GetBytes(row))}'): not hex digits";
    }

    private struct ToBase64 : IStringRowFunction
    {
        private BinaryArray _b;
        public void Prepare(IArrowArray[] args) => _b = (BinaryArray)args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            var bytes = _b.GetBytes(row);
            var target = output.Reserve(Base64.GetMaxEncodedToUtf8Length(bytes.Length));
            Base64.EncodeToUtf8(bytes, target, out _, out int written);
            output.Commit(written);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    private struct FromBase64 : IStringRowFunction
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            if (s.Length % 4 != 0) return false;
            var target = output.Reserve(Base64.GetMaxDecodedFromUtf8Length(s.Length));
            if (Base64.DecodeFromUtf8(s, target, out _, out int written) != System.Buffers.OperationStatus.Done) return false;
            output.Commit(written);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidCast;
        public readonly string Describe(int row) => $"from_base64('{Preview(_s.GetBytes(row))}'): not base64";
    }

    private static string Preview(ReadOnlySpan<byte> s)
    {
        var text = System.Text.Encoding.UTF8.GetString(s[..Math.Min(s.Length, 60)]);
        return s.Length > 60 ? text + "..." : text;
    }

    /// <summary>A new random UUID per row (Guid.NewGuid is a version 4 UUID), written big-endian as Arrow's uuid is.</summary>
    private sealed class UuidKernel() : Kernel(SqlType.Uuid)
    {
        public override IArrowArray Evaluate(EvalContext context)
        {
            int n = context.Length;
            var bytes = new byte[n * 16];
            for (int i = 0; i < n; i++) Guid.NewGuid().TryWriteBytes(bytes.AsSpan(i * 16), bigEndian: true, out _);
            return Vectors.Fixed(Type, bytes, null, n);
        }
    }
}
