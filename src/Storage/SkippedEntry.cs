namespace DataPlane.Storage;

/// <summary>
/// An entry a listing passed over because it is no object the store serves, with why: on a local folder, a symbolic
/// link (followed, it could lead out of the folder, to nothing, or round in a loop). S3 listings have none.
/// </summary>
public sealed record SkippedEntry(string Key, string Reason);
