using Microsoft.IdentityModel.Tokens;

namespace Remediation.Host;

/// <summary>Remediation:Auth:EntraId — validation of Entra ID access tokens (RS256) by ASP.NET Core's JWT bearer handler.</summary>
public sealed class EntraIdAuthOptions
{
    private const string Section = WebhookAuthOptions.SectionName + ":EntraId";

    /// <summary>Directory (tenant) id; issuers https://login.microsoftonline.com/{tenant}/v2.0 and https://sts.windows.net/{tenant}/ are accepted.</summary>
    public string? TenantId { get; set; }
    /// <summary>Accepted audiences: the app id URI and/or client id of the app registration protecting the webhook (two during a rotation).</summary>
    public List<string> Audiences { get; set; } = [];
    /// <summary>Accepted callers (azp / appid claim), e.g. Event Grid's application id; empty: any caller of the tenant.</summary>
    public List<string> AllowedClientIds { get; set; } = [];
    /// <summary>
    /// A JWKS document ({"keys": [...]}) to validate signatures with instead of fetching the authority's metadata
    /// (air-gapped installs). When unset, keys come from <see cref="MetadataAddress"/>.
    /// </summary>
    public string? SigningKeys { get; set; }
    /// <summary>
    /// OpenID configuration URL; default https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration.
    /// https, or http to a loopback address (a local metadata server).
    /// </summary>
    public string? MetadataAddress { get; set; }
    /// <summary>Allowed clock difference for exp/nbf.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    public bool IsConfigured => !string.IsNullOrEmpty(TenantId) && Audiences.Count > 0;

    /// <summary>The issuers of the tenant's v2.0 and v1.0 tokens.</summary>
    public IReadOnlyList<string> Issuers => [$"https://login.microsoftonline.com/{TenantId}/v2.0", $"https://sts.windows.net/{TenantId}/"];

    /// <summary>The OpenID configuration document the keys come from.</summary>
    public Uri Metadata => new(string.IsNullOrEmpty(MetadataAddress)
        ? $"https://login.microsoftonline.com/{TenantId}/v2.0/.well-known/openid-configuration"
        : MetadataAddress);

    /// <summary>True when the metadata may be fetched over plain http: only from this machine.</summary>
    public bool MetadataOverLoopbackHttp => Metadata is { Scheme: "http", IsLoopback: true };

    /// <summary>What is wrong with these settings, in one line naming the setting, or null.</summary>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(TenantId) && Audiences.Count == 0)
        {
            return null;
        }
        if (string.IsNullOrEmpty(TenantId) || Audiences.Count == 0 || Audiences.Any(string.IsNullOrWhiteSpace))
        {
            return $"{Section}:TenantId and {Section}:Audiences:0 must be set together (the tenant's id and the audience of its tokens)";
        }
        if (!TenantId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
        {
            return $"{Section}:TenantId '{TenantId}' is not a tenant id: expected a directory id (GUID) or a domain such as contoso.onmicrosoft.com";
        }
        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromHours(1))
        {
            return $"{Section}:ClockSkew {ClockSkew} is out of range: expected 00:00:00 to 01:00:00";
        }
        return SigningKeysProblem() ?? MetadataProblem();
    }

    private string? SigningKeysProblem()
    {
        if (string.IsNullOrEmpty(SigningKeys))
        {
            return null;
        }
        try
        {
            return new JsonWebKeySet(SigningKeys).GetSigningKeys().Count > 0
                ? null
                : $"{Section}:SigningKeys holds no usable signing key: expected a JWKS document {{\"keys\": [...]}} with RSA keys";
        }
        catch (ArgumentException)
        {
            return $"{Section}:SigningKeys is not a JWKS document: expected {{\"keys\": [...]}}";
        }
    }

    private string? MetadataProblem()
    {
        if (string.IsNullOrEmpty(MetadataAddress))
        {
            return null;
        }
        if (!Uri.TryCreate(MetadataAddress, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return $"{Section}:MetadataAddress '{MetadataAddress}' is not an absolute URL: expected https://…/.well-known/openid-configuration";
        }
        return uri.Scheme == "http" && !uri.IsLoopback
            ? $"{Section}:MetadataAddress '{MetadataAddress}' uses http: expected https (http only to a loopback address)"
            : null;
    }
}
