namespace DataPlane.Slurper.Copy;

/// <summary>The bytes copied do not match what the source or the destination says they should be.</summary>
internal sealed class VerificationFailedException(string key, string detail)
    : Exception($"Verification of '{key}' failed: {detail}.");
