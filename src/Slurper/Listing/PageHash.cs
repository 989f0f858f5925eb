using System.Security.Cryptography;
using System.Text;
using DataPlane.Storage;

namespace DataPlane.Slurper.Listing;

/// <summary>Identifies a list page by its content (keys, sizes, ETags, skipped entries), so the same page listed twice, by two overlapping
/// ranges or by a resumed run, is recognised.</summary>
internal static class PageHash
{
    public static string Of(ListedPage page)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var o in page.Objects)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(o.Key));
            BitConverter.TryWriteBytes(number, o.Size);
            hash.AppendData(number);
            hash.AppendData(Encoding.UTF8.GetBytes(o.ETag));
        }
        // Skipped entries are told apart from objects: a page of one link is not the page of an object of that name.
        foreach (var s in page.Skipped)
        {
            hash.AppendData("\0skipped\0"u8);
            hash.AppendData(Encoding.UTF8.GetBytes(s.Key));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
