namespace DataPlane.Database.Native;

/// <summary>A log entry could not be applied as recorded; the copy must be rebuilt from a snapshot.</summary>
internal sealed class ReplicaDivergedException(string message) : Exception(message);
