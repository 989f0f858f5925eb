using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// Struct functions with DuckDB's rules: struct_extract(s, 'f') is <c>s.f</c> (the name a constant, matched exactly
/// first, then ignoring case), struct_extract_at(s, i) the i-th field (1-based, a constant). A NULL struct gives NULL.
/// Building structs (<c>{'a': 1}</c>, struct_pack(a := 1), named_struct('a', 1)) is the binder's, as the field names
/// are part of the type.
/// </summary>
internal static class StructFunctions
{
    public static void Register(FunctionRegistry r)
    {
        r.Add(new ScalarFunction("struct_extract", "struct", "struct_extract(s, 'field'): the field's value, as s.field",
            resolver: Extract, signatures: "struct_extract(STRUCT, VARCHAR constant) -> the field's type"));
        r.Add(new ScalarFunction("struct_extract_at", "struct", "struct_extract_at(s, i): the i-th field's value, 1-based",
            resolver: ExtractAt, signatures: "struct_extract_at(STRUCT, INTEGER constant) -> the field's type"));
    }

    private static FunctionBinding? Extract(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2 || args[0].Type.Kind != SqlTypeKind.Struct || args[1].Type.Kind is not (SqlTypeKind.Varchar or SqlTypeKind.Null)) return null;
        if (args[1].ConstantValue is not string key) throw new ArgumentRefusedException(1, "struct_extract takes the field's name as a string constant");
        var fields = args[0].Type.Fields!;
        int index = -1;
        for (int i = 0; i < fields.Count && index < 0; i++) if (fields[i].Name == key) index = i;
        for (int i = 0; i < fields.Count && index < 0; i++) if (string.Equals(fields[i].Name, key, StringComparison.OrdinalIgnoreCase)) index = i;
        if (index < 0)
            throw new ArgumentRefusedException(1, $"the struct has no field \"{key}\"" + NearestNames.Suggest(key, fields.Select(f => f.Name)) + $" (fields: {string.Join(", ", fields.Select(f => f.Name))})");
        return Field(args[0].Type, SqlType.Varchar, index);
    }

    private static FunctionBinding? ExtractAt(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2 || args[0].Type.Kind != SqlTypeKind.Struct || !args[1].Type.IsInteger) return null;
        var fields = args[0].Type.Fields!;
        long at = args[1].ConstantValue switch { int i => i, long l => l, _ => 0 };
        if (at < 1 || at > fields.Count)
            throw new ArgumentRefusedException(1, $"struct_extract_at takes a field's position as a constant from 1 to {fields.Count}");
        return Field(args[0].Type, args[1].Type, (int)at - 1);
    }

    private static FunctionBinding Field(SqlType type, SqlType key, int index) =>
        new([type, key], type.Fields![index].Type, (k, t) => new FieldAccessKernel(k[0], index, t));
}
