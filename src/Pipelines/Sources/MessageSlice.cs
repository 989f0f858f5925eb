namespace DataPlane.Pipelines.Sources;

/// <summary>Where one message's value lies in the <see cref="MessageBuffer"/>, or why it was not put there.</summary>
internal readonly record struct MessageSlice(int Start, int Length, MessageShape Shape);

internal enum MessageShape
{
    /// <summary>Starts with '{' and ends with '}': copied to the buffer for the parser.</summary>
    Object,
    /// <summary>A null value (a tombstone) or only whitespace.</summary>
    Empty,
    /// <summary>Anything else: an array, a scalar, or text that is not JSON.</summary>
    NotObject,
    /// <summary>Larger than the stream's maximum record size.</summary>
    TooLarge,
}
