namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// Thrown by a function's resolver when the types fit but a constant argument does not (an invalid regular
/// expression, an unknown option): the binder reports it at that argument's position.
/// </summary>
internal sealed class ArgumentRefusedException(int argument, string message) : Exception(message)
{
    public int Argument { get; } = argument;
}
