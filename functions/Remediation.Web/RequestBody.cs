using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Remediation.Http;

/// <summary>Reads a request body up to a size limit.</summary>
public static class RequestBody
{
    public const int MaxBytes = 1024 * 1024;

    /// <summary>The body, or null when it is larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken cancellationToken, int limit = MaxBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > limit)
        {
            return null;
        }
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is { } length and > 0 ? (int)length : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The body as JSON text: like <see cref="ReadAsync"/>, without a leading UTF-8 byte order mark (EF BB BF), which
    /// some senders and editors write and which JSON parsers refuse (RFC 8259 §8.1 lets a parser ignore it).
    /// </summary>
    public static async Task<byte[]?> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken, int limit = MaxBytes) =>
        await ReadAsync(request, cancellationToken, limit).ConfigureAwait(false) is { } body ? WithoutBom(body) : null;

    /// <summary><paramref name="body"/> without a leading UTF-8 byte order mark.</summary>
    public static byte[] WithoutBom(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return body.AsSpan().StartsWith(Utf8Bom) ? body[Utf8Bom.Length..] : body;
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    public static IResult TooLarge(int limit = MaxBytes) =>
        ApiProblem.Result(413, "Payload Too Large", $"the request body exceeds {limit} bytes", "body");
}
