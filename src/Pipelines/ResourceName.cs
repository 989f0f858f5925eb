using System.Text.RegularExpressions;

namespace DataPlane.Pipelines;

/// <summary>Names of streams, sinks and pipelines: they become folder names, URL segments and SQL identifiers.</summary>
internal static partial class ResourceName
{
    public const string Rule = "[a-z][a-z0-9_]* (a lowercase letter, then lowercase letters, digits or underscores), at most 128 characters";

    public static bool IsValid(string? name) => name is { Length: > 0 and <= 128 } && Pattern().IsMatch(name);

    /// <summary>The message for an invalid name of the given kind ("stream", "sink", "pipeline").</summary>
    public static string Problem(string kind, string? name) =>
        name is null ? $"The {kind} needs a \"name\": {Rule}." : $"The {kind} name '{name}' is not valid: names are {Rule}.";

    [GeneratedRegex(@"^[a-z][a-z0-9_]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
