using System.Globalization;
using DataPlane.Slurper.Journal;

namespace DataPlane.Slurper.Kafka;

/// <summary>One object on the Kafka queue: the message key is the object key, the value its size and ETag.</summary>
internal static class WorkMessage
{
    public static string Value(long size, string etag) => size.ToString(CultureInfo.InvariantCulture) + "\n" + etag;

    public static WorkItem Parse(string key, string value)
    {
        var nl = value.IndexOf('\n');
        if (nl < 0 || !long.TryParse(value.AsSpan(0, nl), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            throw new InvalidDataException($"Not a slurp work message for '{key}': '{value}'.");
        return new WorkItem(key, size, value[(nl + 1)..]);
    }
}
