using System.Security.Cryptography;
using System.Text;
using DataPlane.Storage;

namespace DataPlane.Slurper.Listing;

/// <summary>Identifies a list page by its content (keys, sizes, ETags), so the same page listed twice, by two overlapping
/// ranges or by a resumed run, is recognised.</summary>
internal static class PageHash
{
    public static string Of(IReadOnlyList<ObjectInfo> objects)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var o in objects)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(o.Key));
            BitConverter.TryWriteBytes(number, o.Size);
            hash.AppendData(number);
            hash.AppendData(Encoding.UTF8.GetBytes(o.ETag));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
