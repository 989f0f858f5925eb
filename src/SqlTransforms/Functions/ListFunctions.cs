// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// Lists (arrays), with DuckDB's rules: positions 1-based, negative ones counting from the end; a NULL list gives
/// NULL. Generic in the element type, so each resolves its own types: a needle and the elements meet at their common
/// type (the list cast element by element when it must widen). Kernels in <c>ListKernels.cs</c>.
/// </summary>
internal static class ListFunctions
{
    public static void Register(FunctionRegistry r)
    {
        r.Add(new ScalarFunction("array_length", "list", "the number of elements (NULLs included)", resolver: Length, signatures: "array_length(T[]) -> BIGINT"));
        r.Alias("len", "array_length");
        r.Add(new ScalarFunction("array_contains", "list", "whether the list holds the value (NULL when the value is NULL)",
            resolver: args => Search(args, position: false), signatures: "array_contains(T[], T) -> BOOLEAN"));
        r.Alias("list_contains", "array_contains");
        r.Alias("list_has", "array_contains");
        r.Alias("array_has", "array_contains");
        r.Add(new ScalarFunction("array_position", "list", "the 1-based position of the value's first occurrence, NULL when absent (a NULL value finds the first NULL)",
            resolver: args => Search(args, position: true), signatures: "array_position(T[], T) -> INTEGER"));
        r.Alias("list_position", "array_position");
        r.Alias("list_indexof", "array_position");
        r.Alias("array_indexof", "array_position");
        r.Add(new ScalarFunction("array_slice", "list", "array_slice(list, begin, end[, step]), l[begin:end:step]: the elements (or a string's characters) from begin to end, 1-based and inclusive, negative from the end",
            resolver: Slice, signatures: "array_slice(T[], BIGINT, BIGINT[, BIGINT]) -> T[], array_slice(VARCHAR, BIGINT, BIGINT) -> VARCHAR"));
        r.Alias("list_slice", "array_slice");
        r.Add(new ScalarFunction("array_distinct", "list", "the distinct values in the order they first occur, NULLs left out",
            resolver: Distinct, signatures: "array_distinct(T[]) -> T[]"));
        r.Alias("list_distinct", "array_distinct");
        r.Add(new ScalarFunction("flatten", "list", "flatten(list of lists): the inner lists' elements in order, one list (NULL inner lists left out)",
            resolver: Flatten, signatures: "flatten(T[][]) -> T[]"));
        r.Add(new ScalarFunction("array_to_string", "list", "array_to_string(list, separator): the elements as text joined by the separator, NULLs left out",
            resolver: ToText, signatures: "array_to_string(T[], VARCHAR) -> VARCHAR"));
        r.Add(new ScalarFunction("string_to_array", "list", "string_to_array(text, separator): the parts between separators ('' splits into characters)")
            .Add([SqlType.Varchar, SqlType.Varchar], SqlType.List(SqlType.Varchar), (a, t) => new StringToListKernel(a[0], a[1], t), propagatesNull: false));
        r.Alias("string_split", "string_to_array");
        r.Alias("str_split", "string_to_array");
    }

    /// <summary>The list type of an argument: a list, or a NULL taken as a list of <paramref name="element"/>.</summary>
    private static SqlType? ListType(ArgumentInfo a, SqlType? element = null) =>
        a.Type.Kind == SqlTypeKind.List ? a.Type : a.Type.Kind == SqlTypeKind.Null ? SqlType.List(element ?? SqlType.Integer) : null;

    private static bool Takes(ArgumentInfo a, SqlType type) => ScalarFunction.ConversionCost(a, type) != int.MaxValue;

    private static FunctionBinding? Length(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 1 || ListType(args[0]) is not { } list) return null;
        return new FunctionBinding([list], SqlType.BigInt, (k, t) => new RowKernel<long, ListLength>(k, t, default));
    }

    private static FunctionBinding? Search(IReadOnlyList<ArgumentInfo> args, bool position)
    {
        if (args.Count != 2) return null;
        var needle = args[1].Type.Kind == SqlTypeKind.Null ? null : args[1].Type;
        if (ListType(args[0], needle) is not { } list) return null;
        var element = ComparisonOperators.CommonType(new ArgumentInfo(list.Element!, false), args[1]);
        if (element is null || element.Kind == SqlTypeKind.Fixed)
            throw new ArgumentRefusedException(1, $"array_{(position ? "position" : "contains")} looks for {list.Element} values in a {list}, and {args[1].Type} does not compare with them");
        if (element.Kind == SqlTypeKind.Null) element = SqlType.Integer;
        return new FunctionBinding([SqlType.List(element), element], position ? SqlType.Integer : SqlType.Boolean,
            (k, t) => new ListSearchKernel(k[0], k[1], ListSearchKernel.Equality(element), position, t), PropagatesNull: !position);
    }

    private static FunctionBinding? Slice(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count is not (3 or 4) || args.Skip(1).Any(a => !Takes(a, SqlType.BigInt))) return null;
        if (args[0].Type.Kind == SqlTypeKind.Varchar)
        {
            if (args.Count == 4) throw new ArgumentRefusedException(3, "a slice of a string takes no step (DuckDB has none either); slice string_to_array(s, '') and join it with array_to_string");
            return new FunctionBinding([SqlType.Varchar, SqlType.BigInt, SqlType.BigInt], SqlType.Varchar, (k, t) => new StringRowKernel<StringSlice>(k, t, default));
        }
        if (ListType(args[0]) is not { } list) return null;
        return new FunctionBinding([list, .. args.Skip(1).Select(_ => SqlType.BigInt)], list,
            (k, t) => new ListSliceKernel(k[0], k[1], k[2], k.Count > 3 ? k[3] : null, t));
    }

    private static FunctionBinding? Distinct(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 1 || ListType(args[0]) is not { } list) return null;
        return new FunctionBinding([list], list, (k, t) => new ListDistinctKernel(k[0], t));
    }

    private static FunctionBinding? Flatten(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 1 || ListType(args[0], SqlType.List(SqlType.Integer)) is not { Element.Kind: SqlTypeKind.List or SqlTypeKind.Null } list) return null;
        if (list.Element.Kind == SqlTypeKind.Null) list = SqlType.List(SqlType.List(SqlType.Integer));
        return new FunctionBinding([list], list.Element!, (k, t) => new ListFlattenKernel(k[0], t));
    }

    private static FunctionBinding? ToText(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2 || ListType(args[0]) is not { } list || !Takes(args[1], SqlType.Varchar)) return null;
        if (!CastFunctions.CanCast(list.Element!, SqlType.Varchar))
            throw new ArgumentRefusedException(0, $"array_to_string of a {list} is not supported yet: its elements do not convert to VARCHAR");
        return new FunctionBinding([list, SqlType.Varchar], SqlType.Varchar, (k, _) =>
            new ListToStringKernel(k[0], k[1], CastFunctions.Compile(new ColumnKernel(0, list.Element!), SqlType.Varchar, isTry: false)), PropagatesNull: false);
    }

    /// <summary>array_slice of a string, <c>s[begin:end]</c>: its characters (code points) from begin to end, as a list's elements are sliced.</summary>
    internal struct StringSlice : IStringRowFunction
    {
        private BinaryArray _s;
        private IArrowArray _begin, _end;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _begin = args[1]; _end = args[2]; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var (from, to) = ListSliceKernel.Range(Vectors.Values<long>(_begin)[row], Vectors.Values<long>(_end)[row], Utf8Text.CodePoints(s));
            if (from > to) { output.Append([]); return true; }
            output.Append(s[Utf8Text.ByteOffset(s, from - 1)..Utf8Text.ByteOffset(s, to)]);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    internal struct ListLength : IRowFunction<long>
    {
        private ListArray _list;
        public void Prepare(IArrowArray[] args) => _list = (ListArray)args[0];
        public readonly bool Apply(int row, out long value) { value = _list.ValueOffsets[row + 1] - _list.ValueOffsets[row]; return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }
}
