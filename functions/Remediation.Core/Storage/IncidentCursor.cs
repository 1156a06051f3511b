using System.Text;

namespace Remediation.Storage;

/// <summary>
/// Where the next page of history starts: Table Storage's continuation (the NextPartitionKey and NextRowKey of the
/// query), carried to clients as an opaque token, base64url of <c>1\n{nextPartitionKey}\n{nextRowKey}</c>.
/// <para>
/// A token is a position in the table's key order, nothing more: it grants nothing (whoever can page can read every
/// incident anyway), so it is validated, not signed. A token that does not decode to that shape is refused by
/// <see cref="TryParse"/> before it reaches storage.
/// </para>
/// </summary>
public sealed record IncidentCursor
{
    private const string Version = "1";

    /// <summary>Longest key accepted in a token (Table Storage keys are at most 1 KiB).</summary>
    public const int MaxKeyLength = 1024;

    private IncidentCursor(string nextPartitionKey, string nextRowKey)
    {
        NextPartitionKey = nextPartitionKey;
        NextRowKey = nextRowKey;
    }

    public string NextPartitionKey { get; }

    public string NextRowKey { get; }

    /// <summary>The continuation token as the Azure.Data.Tables SDK writes and reads it.</summary>
    internal string TableToken => NextPartitionKey + " " + NextRowKey;

    /// <summary>From the SDK's continuation token ("{nextPartitionKey} {nextRowKey}").</summary>
    internal static IncidentCursor FromTableToken(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        var space = token.IndexOf(' ', StringComparison.Ordinal);
        var cursor = space > 0 && space < token.Length - 1 ? Create(token[..space], token[(space + 1)..]) : null;
        return cursor ?? throw new FormatException($"unexpected Table Storage continuation token ({token.Length} characters)");
    }

    /// <summary>The opaque token for clients (URL-safe: base64url without padding).</summary>
    public string Encode() => Base64Url(Encoding.UTF8.GetBytes(Version + "\n" + NextPartitionKey + "\n" + NextRowKey));

    public override string ToString() => Encode();

    /// <summary>Decodes a client's token; false when it is not one this product issued (any shape but the one above).</summary>
    public static bool TryParse(string? token, out IncidentCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(token) || token.Length > 4 * (2 * MaxKeyLength * 3 + 8) / 3 + 4)
        {
            return false;
        }
        byte[] bytes;
        try
        {
            bytes = FromBase64Url(token);
        }
        catch (FormatException)
        {
            return false;
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var parts = text.Split('\n');
        if (parts.Length != 3 || parts[0] != Version)
        {
            return false;
        }
        cursor = Create(parts[1], parts[2]);
        return cursor is not null;
    }

    private static IncidentCursor? Create(string partitionKey, string rowKey) =>
        IsKey(partitionKey) && IsKey(rowKey) ? new IncidentCursor(partitionKey, rowKey) : null;

    /// <summary>Non-empty, bounded, no space (the SDK's separator) and no control character.</summary>
    private static bool IsKey(string key) =>
        key.Length is > 0 and <= MaxKeyLength && !key.Any(c => c == ' ' || char.IsControl(c));

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                throw new FormatException("not base64url");
            }
        }
        if (text.Length % 4 == 1)
        {
            throw new FormatException("not base64url");
        }
        var padded = text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - text.Length % 4) % 4);
        return Convert.FromBase64String(padded);
    }
}
