namespace DataPlane.Database.Hosting;

/// <summary>A database as listed by the API.</summary>
public sealed record DatabaseInfo(string Name, int Replicas, string? Bookmark, long? Position);
