using System.Text;
using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>Reads a text as a value of type T; false when it is not one.</summary>
internal delegate bool TextParser<T>(string text, out T value);

/// <summary>Reads UTF-8 bytes as a value of type T without making a string; false sends the row to the text parser.</summary>
internal delegate bool Utf8Parser<T>(ReadOnlySpan<byte> utf8, out T value);

/// <summary>A fixed-width column written as VARCHAR row by row (NULL stays NULL); the subclass writes one value's UTF-8.</summary>
internal abstract class ToTextKernel<T>(Kernel operand) : Kernel(SqlType.Varchar) where T : unmanaged
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = operand.Evaluate(context);
        int n = context.Length;
        var values = Vectors.Values<T>(input);
        var builder = new Utf8Builder(n, n * 8);
        for (int i = 0; i < n; i++)
        {
            if (input.IsNull(i)) builder.AppendNull();
            else builder.Commit(Write(values[i], builder));
        }
        return builder.Build();
    }

    /// <summary>Writes the value into space reserved on the builder; answers the bytes written.</summary>
    protected abstract int Write(T value, Utf8Builder builder);
}

/// <summary>INTEGER and BIGINT columns written as VARCHAR digits straight into the column's bytes.</summary>
internal sealed class IntegerTextKernel<T>(Kernel operand) : ToTextKernel<T>(operand) where T : unmanaged, IUtf8SpanFormattable
{
    protected override int Write(T value, Utf8Builder builder)
    {
        value.TryFormat(builder.Reserve(20), out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        return written;
    }
}

/// <summary>A fixed-width column written as VARCHAR, one formatter call per non-NULL row.</summary>
internal sealed class FormatKernel<T>(Kernel operand, Func<T, string> format) : ToTextKernel<T>(operand) where T : unmanaged
{
    protected override int Write(T value, Utf8Builder builder)
    {
        var text = format(value);
        return Encoding.UTF8.GetBytes(text, builder.Reserve(Encoding.UTF8.GetByteCount(text)));
    }
}

/// <summary>A VARCHAR column read as type T; a text that does not parse fails the row with <see cref="RowErrorReason.InvalidCast"/>.</summary>
internal sealed class ParseKernel<T>(Kernel operand, SqlType type, TextParser<T> parse, Utf8Parser<T>? fast = null) : Kernel(type) where T : unmanaged
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = (BinaryArray)operand.Evaluate(context);
        int n = context.Length;
        var validity = Vectors.Validity(input);
        var bytes = Vectors.Allocate<T>(n, out var output);
        for (int i = 0; i < n; i++)
        {
            if (!Vectors.Get(validity, i)) continue;
            // the common forms ('42', '-1.5') parse straight from the bytes; the rest through a string
            if (fast is not null && fast(input.GetBytes(i), out output[i])) continue;
            var text = Encoding.UTF8.GetString(input.GetBytes(i));
            if (parse(text, out output[i])) continue;
            validity ??= Vectors.AllValid(n);
            Vectors.Clear(validity, i);
            if (context.Fail(i, RowErrorReason.InvalidCast))
                context.Errors.AddSample(i, $"CAST('{(text.Length > 60 ? text[..60] + "..." : text)}' AS {Type}) failed");
        }
        return Type.Kind == SqlTypeKind.Boolean ? PackBooleans(bytes, validity, n) : Vectors.Fixed(Type, bytes, validity, n);
    }

    private static IArrowArray PackBooleans(byte[] bytes, byte[]? validity, int n)
    {
        var bits = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++) if (bytes[i] != 0) Vectors.Set(bits, i);
        return Vectors.Boolean(bits, validity, n);
    }
}

/// <summary>BOOLEAN columns to and from other fixed-width types (their 0/1 or non-zero values).</summary>
internal sealed class BooleanBytesKernel(Kernel operand, SqlType type, bool toBoolean) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = operand.Evaluate(context);
        int n = context.Length;
        if (toBoolean)
        {
            // operand is BIGINT or DOUBLE (the binder widens first)
            var bits = new byte[(n + 7) / 8];
            if (operand.Type.Kind == SqlTypeKind.Double)
            {
                var v = Vectors.Values<double>(input);
                for (int i = 0; i < n; i++) if (v[i] != 0) Vectors.Set(bits, i);
            }
            else
            {
                var v = Vectors.Values<long>(input);
                for (int i = 0; i < n; i++) if (v[i] != 0) Vectors.Set(bits, i);
            }
            return Vectors.Boolean(bits, Vectors.Validity(input), n);
        }
        var b = (BooleanArray)input;
        var bytes = Vectors.Allocate<int>(n, out var output);
        for (int i = 0; i < n; i++) output[i] = b.GetValue(i) == true ? 1 : 0;
        return Vectors.Fixed(SqlType.Integer, bytes, Vectors.Validity(input), n);
    }
}

/// <summary>BOOLEAN as text: true / false.</summary>
internal sealed class BooleanTextKernel(Kernel operand) : Kernel(SqlType.Varchar)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var b = (BooleanArray)operand.Evaluate(context);
        var builder = new Utf8Builder(context.Length, context.Length * 5);
        for (int i = 0; i < context.Length; i++)
        {
            if (b.IsNull(i)) builder.AppendNull();
            else builder.Append(b.GetValue(i) == true ? "true"u8 : "false"u8);
        }
        return builder.Build();
    }
}

/// <summary>VARCHAR and BLOB into each other: BLOB text escapes bytes outside printable ASCII as \xNN (DuckDB's form).</summary>
internal sealed class BlobTextKernel(Kernel operand, bool toText) : Kernel(toText ? SqlType.Varchar : SqlType.Blob)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = (BinaryArray)operand.Evaluate(context);
        var builder = new Utf8Builder(context.Length, input.ValueBuffer.Length);
        for (int i = 0; i < context.Length; i++)
        {
            if (input.IsNull(i)) { builder.AppendNull(); continue; }
            if (toText) builder.Append(Encoding.UTF8.GetBytes(ValueText.Blob(input.GetBytes(i))));
            else if (ValueText.ParseBlob(Encoding.UTF8.GetString(input.GetBytes(i))) is { } bytes) builder.Append(bytes);
            else
            {
                builder.AppendNull();
                if (context.Fail(i, RowErrorReason.InvalidCast)) context.Errors.AddSample(i, "CAST(... AS BLOB) failed: characters outside ASCII need \\x escapes");
            }
        }
        return builder.Build(binary: !toText);
    }
}

/// <summary>Runs a cast for TRY_CAST: the operand's own failures count, the cast's do not (its failures are NULL).</summary>
internal sealed class TryKernel(SharedKernel operand, Kernel cast) : Kernel(cast.Type)
{
    private bool[] _inactive = [];

    public override IArrowArray Evaluate(EvalContext context)
    {
        operand.Evaluate(context);
        var outer = context.Active;
        if (_inactive.Length < context.Length) _inactive = new bool[context.Length];
        context.Active = _inactive;
        try { return cast.Evaluate(context); }
        finally { context.Active = outer; }
    }
}
