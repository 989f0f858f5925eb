using System.Text;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Http;

/// <summary>
/// The spec's pagination: without <c>pageToken</c> a list returns everything with no token; with it (even empty)
/// the list returns at most <c>pageSize</c> entries and <c>next-page-token</c> (null on the last page). The token is
/// the last key returned, base64url-encoded: opaque to clients, and it stays valid when entries are added or dropped.
/// </summary>
internal readonly record struct PageRequest(bool Paged, string? After, int Size)
{
    public const int DefaultPageSize = 1000;

    public static PageRequest From(HttpRequest request)
    {
        var token = request.Query["pageToken"];
        var sizeText = request.Query["pageSize"];
        var size = DefaultPageSize;
        if (sizeText.Count > 0 && !string.IsNullOrEmpty(sizeText[0]))
            if (!int.TryParse(sizeText[0], out size) || size < 1)
                throw RestException.BadRequest($"Invalid pageSize '{sizeText[0]}': it must be a positive integer.");
        var paged = token.Count > 0 || sizeText.Count > 0;
        if (!paged) return new PageRequest(false, null, int.MaxValue);
        var after = token.Count == 0 || string.IsNullOrEmpty(token[0]) ? null : Decode(token[0]!);
        return new PageRequest(true, after, size);
    }

    public static string Encode(string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(lastKey)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Decode(string token)
    {
        try
        {
            var s = token.Replace('-', '+').Replace('_', '/');
            s += new string('=', (4 - s.Length % 4) % 4);
            return Encoding.UTF8.GetString(Convert.FromBase64String(s));
        }
        catch (FormatException)
        {
            throw RestException.BadRequest($"Invalid pageToken '{token}': pass the next-page-token of the previous response unchanged.");
        }
    }

    /// <summary>Cuts a result fetched with <c>Size + 1</c> rows into the page and the next token.</summary>
    public (IReadOnlyList<T> Page, string? NextToken) Cut<T>(IReadOnlyList<T> rows, Func<T, string> key)
    {
        if (!Paged || rows.Count <= Size) return (rows, null);
        var page = rows.Take(Size).ToList();
        return (page, Encode(key(page[^1])));
    }

    /// <summary>Rows to fetch: one more than a page, to know whether another page follows.</summary>
    public int FetchLimit => Paged ? Size + 1 : -1;
}
