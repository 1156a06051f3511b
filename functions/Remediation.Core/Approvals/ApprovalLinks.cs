namespace Remediation.Approvals;

/// <summary>The approve and reject links of one request: each opens a confirmation page whose form posts the signed token.</summary>
public sealed record ApprovalLinkPair(Uri Approve, Uri Reject);

/// <summary>
/// Settings <c>Remediation:Approvals</c>: <c>SigningKey</c> (base64 of at least 32 random bytes; a secret, e.g. from Key
/// Vault), <c>SigningKeyId</c> (default <c>k1</c>), <c>PreviousSigningKeys</c> (<c>id=secret</c> entries kept valid
/// during a rotation) and <c>PublicUrl</c> (the address people reach the host at, for the links in Teams/Slack).
/// Without a signing key and a public URL the requests carry no links: approve from the page, the CLI or the API.
/// </summary>
public sealed class ApprovalLinks
{
    public const string SectionName = "Remediation:Approvals";

    private ApprovalLinks(ApprovalTokenSigner? signer, Uri? publicUrl)
    {
        Signer = signer;
        PublicUrl = publicUrl;
    }

    /// <summary>Verifies (and issues) tokens; null when no signing key is configured (a posted token is then refused).</summary>
    public ApprovalTokenSigner? Signer { get; }
    public Uri? PublicUrl { get; }

    public static ApprovalLinks None { get; } = new(null, null);

    /// <summary>From the settings; an ArgumentException names the setting that is malformed.</summary>
    public static ApprovalLinks From(Func<string, string?> setting, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var secret = setting($"{SectionName}:SigningKey");
        ApprovalTokenSigner? signer = null;
        if (!string.IsNullOrWhiteSpace(secret))
        {
            var previous = new List<ApprovalSigningKey>();
            for (var i = 0; setting($"{SectionName}:PreviousSigningKeys:{i}") is { } entry; i++)
            {
                var eq = entry.IndexOf('=', StringComparison.Ordinal);
                previous.Add(eq > 0
                    ? ApprovalSigningKey.FromSecret(entry[..eq], entry[(eq + 1)..])
                    : throw new ArgumentException($"{SectionName}:PreviousSigningKeys:{i} must be written id=base64secret"));
            }
            var current = ApprovalSigningKey.FromSecret(setting($"{SectionName}:SigningKeyId") ?? "k1", secret);
            signer = new ApprovalTokenSigner(new ApprovalTokenOptions { Current = current, Previous = previous }, timeProvider);
        }
        var url = setting($"{SectionName}:PublicUrl");
        Uri? publicUrl = null;
        if (!string.IsNullOrWhiteSpace(url)
            && (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out publicUrl) || publicUrl.Scheme is not ("http" or "https")))
        {
            throw new ArgumentException($"{SectionName}:PublicUrl '{url}' is not an absolute http(s) URL such as https://remediation.example.com");
        }
        return new ApprovalLinks(signer, publicUrl);
    }

    /// <summary>The links for the plan <paramref name="planDigest"/> of an incident, expiring at its deadline; null without signing key or URL.</summary>
    public ApprovalLinkPair? For(string incidentId, string planDigest, DateTimeOffset deadline)
    {
        if (Signer is null || PublicUrl is null)
        {
            return null;
        }
        Uri Link(ApprovalVerb verb) => new(PublicUrl, $"ui/approvals/{Uri.EscapeDataString(incidentId)}?verb={ApprovalTokenSigner.Name(verb)}"
            + $"&token={Uri.EscapeDataString(Signer.Issue(incidentId, planDigest, verb, deadline))}");
        return new ApprovalLinkPair(Link(ApprovalVerb.Approve), Link(ApprovalVerb.Reject));
    }
}
