namespace DataPlane.Slurper.Listing;

/// <summary>
/// A slice of the key space under <see cref="Prefix"/>. A discovery range lists with the '/' delimiter and turns each
/// common prefix into a range of its own; a flat range lists every key in [<see cref="LowerBound"/>, <see cref="EndBefore"/>),
/// starting the listing after <see cref="StartAfter"/>.
/// </summary>
internal sealed record ListRange(string Prefix, bool Discover, int Depth, string? StartAfter = null, string? LowerBound = null, string? EndBefore = null)
{
    public bool Contains(string key) =>
        (LowerBound is null || string.CompareOrdinal(key, LowerBound) >= 0) &&
        (EndBefore is null || string.CompareOrdinal(key, EndBefore) < 0);
}
