using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Remediation.Storage;

/// <summary>
/// Makes any string a safe part of a Table Storage PartitionKey or RowKey. Table Storage forbids '/', '\', '#', '?',
/// the control characters U+0000-U+001F and U+007F-U+009F, and keys over 1 KiB.
/// <para>
/// Those characters, '%' itself and the part separator '|' are percent-encoded as their UTF-8 bytes ("%2F"); a lone
/// surrogate (no UTF-8 form) becomes "%uD800". Every '%' of the result is then followed by two hex digits or by 'u',
/// so the encoding is injective. A result larger than the limit keeps a prefix and ends with "%~" and the SHA-256 of
/// the escaped value: "%~" never appears in an unhashed result, so hashed and unhashed keys never meet.
/// </para>
/// Valid Kubernetes names and hex ids contain none of these characters and come out unchanged.
/// </summary>
public static class StorageKeys
{
    /// <summary>Table Storage's limit on a key.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>The separator of key parts; escaped inside a part.</summary>
    public const char Separator = '|';

    private const string HashMarker = "%~";
    private const int HashChars = 64;
    private const int MinBudget = 2 * (2 + HashChars) + 16;

    /// <summary>True when <paramref name="c"/> may not appear in a PartitionKey or RowKey.</summary>
    public static bool IsForbidden(char c) =>
        c is '/' or '\\' or '#' or '?' or (>= '\u0000' and <= '\u001f') or (>= '\u007f' and <= '\u009f');

    /// <summary>
    /// The size that counts against the limit: the larger of the UTF-16 and the UTF-8 byte counts, so the bound holds
    /// however the service measures it.
    /// </summary>
    public static int SizeOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Math.Max(2 * key.Length, Encoding.UTF8.GetByteCount(key));
    }

    /// <summary>
    /// Escapes <paramref name="value"/> for use in a key: no forbidden character, no separator, and at most
    /// <paramref name="maxBytes"/> bytes (<see cref="SizeOf"/>).
    /// </summary>
    public static string Escape(string value, int maxBytes = MaxKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, MinBudget);
        var builder = new StringBuilder(value.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"%u{(int)c:X4}");
            }
            else if (c is '%' or Separator || IsForbidden(c))
            {
                foreach (var b in utf8[..new Rune(c).EncodeToUtf8(utf8)])
                {
                    builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
                }
            }
            else
            {
                builder.Append(c);
            }
        }
        var escaped = builder.ToString();
        if (SizeOf(escaped) <= maxBytes)
        {
            return escaped;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(escaped)));
        var budget = maxBytes - SizeOf(HashMarker + hash);
        var prefixLength = 0;
        var size = 0;
        while (prefixLength < escaped.Length)
        {
            var step = char.IsHighSurrogate(escaped[prefixLength]) ? 2 : 1;
            var next = SizeOf(escaped.Substring(prefixLength, step));
            if (size + next > budget)
            {
                break;
            }
            size += next;
            prefixLength += step;
        }
        return escaped[..prefixLength] + HashMarker + hash;
    }

    /// <summary>Joins escaped parts with the separator.</summary>
    public static string Join(params ReadOnlySpan<string> escapedParts) => string.Join(Separator, escapedParts);
}
