using System.Buffers.Text;

namespace Remediation.Approvals;

/// <summary>
/// One key that signs approval tokens: an id (written into each token, so verification picks the key) and at least
/// 32 secret bytes. <see cref="ToString"/> never shows the key.
/// </summary>
public sealed class ApprovalSigningKey
{
    public const int MinimumKeyBytes = 32;
    public const int MaxKeyIdLength = 64;

    private readonly byte[] _key;

    public ApprovalSigningKey(string keyId, ReadOnlySpan<byte> key)
    {
        if (!IsKeyId(keyId))
        {
            throw new ArgumentException($"the approval key id must be 1 to {MaxKeyIdLength} letters, digits, '.', '_' or '-'", nameof(keyId));
        }
        if (key.Length < MinimumKeyBytes)
        {
            throw new ArgumentException($"the approval signing key must be at least {MinimumKeyBytes} bytes, not {key.Length}", nameof(key));
        }
        KeyId = keyId;
        _key = key.ToArray();
    }

    public string KeyId { get; }

    internal ReadOnlySpan<byte> Key => _key;

    /// <summary>A key from a secret setting: base64 or base64url text of the key bytes.</summary>
    public static ApprovalSigningKey FromSecret(string keyId, string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var text = secret.Trim().TrimEnd('=').Replace('+', '-').Replace('/', '_');
        if (!Base64Url.IsValid(text, out var length) || length < MinimumKeyBytes)
        {
            throw new ArgumentException($"the approval signing secret for key '{keyId}' must be base64 of at least {MinimumKeyBytes} bytes", nameof(secret));
        }
        return new ApprovalSigningKey(keyId, Base64Url.DecodeFromChars(text));
    }

    public override string ToString() => $"approval signing key '{KeyId}'";

    internal static bool IsKeyId(string? keyId) =>
        !string.IsNullOrEmpty(keyId) && keyId.Length <= MaxKeyIdLength && keyId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}

/// <summary>
/// The keys approval tokens are signed and verified with. New tokens are signed with <see cref="Current"/>; tokens
/// signed with a <see cref="Previous"/> key still verify, so a key can be rotated without breaking links in flight:
/// add the new key as current, keep the old one as previous until the longest approval deadline has passed, then drop it.
/// </summary>
public sealed record ApprovalTokenOptions
{
    public required ApprovalSigningKey Current { get; init; }
    public IReadOnlyList<ApprovalSigningKey> Previous { get; init; } = [];

    /// <summary>The key that signed a token with this id, or null when it is not (or no longer) configured.</summary>
    internal ApprovalSigningKey? Find(string keyId) =>
        string.Equals(Current.KeyId, keyId, StringComparison.Ordinal)
            ? Current
            : Previous.FirstOrDefault(k => string.Equals(k.KeyId, keyId, StringComparison.Ordinal));
}
