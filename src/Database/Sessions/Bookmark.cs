using System.Globalization;

namespace DataPlane.Database.Sessions;

/// <summary>
/// A log position as a fixed-width string (16 lowercase hex digits), so that comparing two bookmarks
/// as strings orders them like their positions.
/// </summary>
public static class Bookmark
{
    public const int Width = 16;
    public const string HeaderName = "X-DataPlane-Bookmark";

    public static string Format(long position) => position.ToString("x16", CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out long position)
    {
        position = 0;
        return text is { Length: Width } && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f') &&
               long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out position) && position >= 0;
    }
}
