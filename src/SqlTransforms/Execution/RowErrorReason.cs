namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// Why a record was dropped: a stable code (for counters and metrics labels) and what it means. Function families
/// add their own (a malformed JSON path, an invalid regular expression) as static instances beside their kernels.
/// </summary>
public sealed record RowErrorReason(string Code, string Description)
{
    public static readonly RowErrorReason DivisionByZero = new("division_by_zero", "division or modulo by zero");
    public static readonly RowErrorReason Overflow = new("overflow", "a result out of its type's range");
    public static readonly RowErrorReason InvalidCast = new("invalid_cast", "a value that does not convert to the CAST's type");
    public static readonly RowErrorReason InvalidArgument = new("invalid_argument", "a function argument outside what the function takes");
}
