namespace DataPlane.Database.Hosting;

/// <summary>What a token lets its holder do with one database.</summary>
public enum Access
{
    None,
    ReadOnly,
    ReadWrite,
}
