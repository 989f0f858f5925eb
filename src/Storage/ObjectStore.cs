namespace DataPlane.Storage;

/// <summary>Opens a store from a location: a plain path or <c>file:///...</c> for a local folder, <c>s3://bucket/prefix</c> for S3.</summary>
public static class ObjectStore
{
    public static IObjectStore Open(string location, S3Options? s3 = null) =>
        throw new NotImplementedException("ObjectStore.Open: backends land with the Storage work.");
}
