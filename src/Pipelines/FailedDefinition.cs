using System.Globalization;
using System.Text.Json;

namespace DataPlane.Pipelines;

/// <summary>
/// A stored stream, sink or pipeline definition that could not be loaded at start-up (damaged, written by an older
/// version, past a limit, naming what no longer exists). It is skipped, so one bad file never stops the server or
/// makes it crash at every start, and the API shows it as <c>"state": "failed"</c> with the reason until it is
/// deleted (which removes the stored definition) or the server restarts with it fixed.
/// </summary>
/// <param name="Name">The name the definition is stored under (its file or folder name).</param>
/// <param name="Path">The stored definition, for the log and the message.</param>
internal sealed record FailedDefinition(string Name, string Path, string Reason, DateTimeOffset FailedAt)
{
    /// <summary>The reason, saying which file failed and why.</summary>
    public static FailedDefinition From(string kind, string name, string path, Exception e) =>
        new(name, path, $"The stored {kind} definition {path} cannot be loaded: {(e is JsonException ? "it is not valid JSON (" + e.Message + ")" : e.Message)}", DateTimeOffset.UtcNow);

    /// <summary>Whether an exception loading a definition is the definition's fault (everything but the process running out of memory).</summary>
    public static bool IsLoadFailure(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    /// <summary>The API's shape of a failed stream or sink: <c>{"name", "state": "failed", "error", "failed_at"}</c>.</summary>
    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("state", "failed");
        w.WriteString("error", Reason);
        w.WriteString("failed_at", FailedAt.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
