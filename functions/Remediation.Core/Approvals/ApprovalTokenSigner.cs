using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Remediation.Approvals;

/// <summary>
/// Issues and verifies the tokens carried by approve/reject links. A token is
/// <c>v1.&lt;payload&gt;.&lt;signature&gt;</c>: the payload is base64url of the canonical JSON array
/// <c>[keyId, incidentId, planDigest, verb, expiresAtUnixSeconds, nonce]</c>, the signature base64url of
/// HMAC-SHA256 over the ASCII text <c>v1.&lt;payload&gt;</c>. It is single-purpose (one incident, one plan, one verb)
/// and expiring; single use is enforced by the incident's conditional state transition, which records the nonce.
/// </summary>
public sealed class ApprovalTokenSigner(ApprovalTokenOptions options, TimeProvider timeProvider)
{
    public const string Version = "v1";
    /// <summary>Longer input is refused unread (a real token is about 250 characters).</summary>
    public const int MaxTokenLength = 1024;
    public const int MaxIncidentIdLength = 256;
    private const int MacBytes = 32;
    private const int NonceBytes = 16;
    private static readonly string Prefix = Version + ".";

    /// <summary>A token that approves or rejects (<paramref name="verb"/>) the plan with <paramref name="planDigest"/> of
    /// one incident until <paramref name="expiresAt"/> (rounded down to whole seconds), signed with the current key.</summary>
    public string Issue(string incidentId, string planDigest, ApprovalVerb verb, DateTimeOffset expiresAt)
    {
        if (string.IsNullOrEmpty(incidentId) || incidentId.Length > MaxIncidentIdLength)
        {
            throw new ArgumentException($"the incident id must be 1 to {MaxIncidentIdLength} characters", nameof(incidentId));
        }
        if (!PlanDigest.IsDigest(planDigest))
        {
            throw new ArgumentException("not a plan digest", nameof(planDigest));
        }
        if (!Enum.IsDefined(verb))
        {
            throw new ArgumentOutOfRangeException(nameof(verb));
        }
        var expires = expiresAt.ToUnixTimeSeconds();
        if (expires <= timeProvider.GetUtcNow().ToUnixTimeSeconds())
        {
            throw new ArgumentOutOfRangeException(nameof(expiresAt), "a token must expire in the future");
        }
        var key = options.Current;
        var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(NonceBytes));
        var payload = Base64Url.EncodeToString(Payload(key.KeyId, incidentId, planDigest, verb, expires, nonce));
        var signed = Prefix + payload;
        return $"{signed}.{Base64Url.EncodeToString(Mac(key, signed))}";
    }

    /// <summary>
    /// Accepts the token only when it is well formed, signed by a configured key, not expired, and issued for this
    /// incident, this verb and this plan digest (checked in that order). Comparison of signatures is constant-time.
    /// </summary>
    public ApprovalTokenCheck Verify(string? token, string incidentId, string planDigest, ApprovalVerb verb)
    {
        if (Read(token) is not { } read)
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.Malformed, "the approval token is malformed");
        }
        var (signed, mac, claims) = read;
        if (options.Find(claims.KeyId) is not { } key)
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.BadSignature, $"the approval token is signed with key '{claims.KeyId}', which is not configured");
        }
        if (!CryptographicOperations.FixedTimeEquals(Mac(key, signed), mac))
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.BadSignature, "the approval token's signature does not verify");
        }
        var now = timeProvider.GetUtcNow();
        if (now >= claims.ExpiresAt)
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.Expired, $"the approval token expired at {claims.ExpiresAt:yyyy-MM-dd'T'HH:mm:ss'Z'}");
        }
        if (!string.Equals(claims.IncidentId, incidentId, StringComparison.Ordinal))
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.OtherIncident, "the approval token was issued for another incident");
        }
        if (claims.Verb != verb)
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.WrongVerb, $"the approval token may only {Name(claims.Verb)}, not {Name(verb)}");
        }
        if (!string.Equals(claims.PlanDigest, planDigest, StringComparison.Ordinal))
        {
            return ApprovalTokenCheck.Refused(ApprovalTokenFailure.PlanChanged, "the plan has changed since the approval token was issued");
        }
        return ApprovalTokenCheck.Valid(claims);
    }

    internal static string Name(ApprovalVerb verb) => verb == ApprovalVerb.Approve ? "approve" : "reject";

    private static byte[] Mac(ApprovalSigningKey key, string signed) => HMACSHA256.HashData(key.Key, Encoding.ASCII.GetBytes(signed));

    private static byte[] Payload(string keyId, string incidentId, string planDigest, ApprovalVerb verb, long expires, string nonce)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(keyId);
            writer.WriteStringValue(incidentId);
            writer.WriteStringValue(planDigest);
            writer.WriteStringValue(Name(verb));
            writer.WriteNumberValue(expires);
            writer.WriteStringValue(nonce);
            writer.WriteEndArray();
        }
        return buffer.ToArray();
    }

    private sealed record Parts(string Signed, byte[] Mac, ApprovalToken Claims);

    /// <summary>The signed text, the signature and the claims; null unless the token has exactly the shape we issue.</summary>
    private static Parts? Read(string? token)
    {
        if (token is null || token.Length > MaxTokenLength || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var dot = token.LastIndexOf('.');
        if (dot < Prefix.Length || Decode(token.AsSpan(Prefix.Length, dot - Prefix.Length)) is not { } payload
            || Decode(token.AsSpan(dot + 1)) is not { Length: MacBytes } mac || Claims(payload) is not { } claims)
        {
            return null;
        }
        return new Parts(token[..dot], mac, claims);
    }

    /// <summary>Base64url without padding, in its one canonical spelling (re-encoding gives the same text), so no two
    /// spellings of one token exist.</summary>
    private static byte[]? Decode(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || !Base64Url.IsValid(text) || text.ContainsAny('=', ' ', '\t') || text.ContainsAny('\r', '\n'))
        {
            return null;
        }
        var bytes = Base64Url.DecodeFromChars(text);
        return Base64Url.EncodeToString(bytes).AsSpan().SequenceEqual(text) ? bytes : null;
    }

    private static ApprovalToken? Claims(byte[] payload)
    {
        if (!Utf8.IsValid(payload))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(payload);
            var items = document.RootElement;
            if (items.ValueKind != JsonValueKind.Array || items.GetArrayLength() != 6
                || items[4].ValueKind != JsonValueKind.Number || !items[4].TryGetInt64(out var expires)
                || expires is < 0 or > 253402300799
                || new[] { 0, 1, 2, 3, 5 }.Any(i => items[i].ValueKind != JsonValueKind.String))
            {
                return null;
            }
            var (keyId, incidentId, digest, verb, nonce) =
                (items[0].GetString()!, items[1].GetString()!, items[2].GetString()!, items[3].GetString()!, items[5].GetString()!);
            ApprovalVerb? parsed = verb switch { "approve" => ApprovalVerb.Approve, "reject" => ApprovalVerb.Reject, _ => null };
            if (parsed is not { } v || !ApprovalSigningKey.IsKeyId(keyId) || incidentId.Length is 0 or > MaxIncidentIdLength
                || !PlanDigest.IsDigest(digest) || nonce.Length == 0)
            {
                return null;
            }
            return new ApprovalToken(keyId, incidentId, digest, v, DateTimeOffset.FromUnixTimeSeconds(expires), nonce);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON, or a string escape that is not text (a lone surrogate): the token was not issued by us (or was
            // altered), which Verify reports as Malformed.
            return null;
        }
    }
}
