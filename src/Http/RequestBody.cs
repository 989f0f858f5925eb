using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace DataPlane.Http;

/// <summary>
/// Reads a request body into one pooled buffer (the caller returns it to <see cref="ArrayPool{T}.Shared"/>), inflating
/// gzip, and refuses as soon as the bytes pass the limit, whether the body gave its length or not: a small body that
/// inflates past it (a gzip bomb) is stopped after limit + 1 bytes, not after inflating it all.
/// </summary>
public static class RequestBody
{
    /// <param name="remedy">What the 413's message tells the client to do.</param>
    /// <param name="gzip">Whether Content-Encoding is honoured (gzip inflated, others refused); when false it is not looked at.</param>
    public static async Task<(byte[] Buffer, int Length)> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken,
        string remedy = "send fewer records per request", bool gzip = true)
    {
        if (request.ContentLength > limit)
            throw new RequestBodyTooLargeException($"The request body is {request.ContentLength} bytes, over the limit of {limit} bytes; {remedy}.");
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
            sizeFeature.MaxRequestBodySize = limit + 1L;

        var encoding = gzip ? request.Headers.ContentEncoding.ToString() : "";
        gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            throw new UnsupportedEncodingException($"Content-Encoding '{encoding}' is not supported; send the body plain or with 'gzip'.");

        Stream body = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : request.Body;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, (int?)request.ContentLength + 1 ?? 64 * 1024));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                        throw new RequestBodyTooLargeException(gzip
                            ? $"The gzip body inflates past the limit of {limit} bytes; {remedy}."
                            : $"The request body is over the limit of {limit} bytes; {remedy}.");
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken);
                if (read == 0)
                    break;
                length += read;
                if (length > limit)
                    throw new RequestBodyTooLargeException(gzip
                        ? $"The gzip body inflates past the limit of {limit} bytes; {remedy}."
                        : $"The request body is over the limit of {limit} bytes; {remedy}.");
            }
            return (buffer, length);
        }
        catch (InvalidDataException e) when (gzip)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new MalformedBodyException($"The body is not valid gzip: {e.Message}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new RequestBodyTooLargeException($"The request body is over the limit of {limit} bytes; {remedy}.");
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (gzip)
                await body.DisposeAsync();
        }
    }
}

public sealed class RequestBodyTooLargeException(string message) : Exception(message);

public sealed class UnsupportedEncodingException(string message) : Exception(message);

public sealed class MalformedBodyException(string message) : Exception(message);
