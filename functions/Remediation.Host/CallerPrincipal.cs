using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Remediation.Host;

/// <summary>
/// The principal of a request the <see cref="WebhookAuthenticator"/> has accepted, for the answers to approval requests:
/// a Basic user is named by its user name; an Entra ID token by its preferred_username (else upn, email, oid), with its
/// groups and roles. A shared bearer token or an HMAC signature authenticates a sender, not a person: the principal
/// names nobody and cannot approve. Anonymous hosts name nobody.
/// </summary>
public static class CallerPrincipal
{
    private static readonly string[] NameClaims = ["preferred_username", "upn", "email", "oid"];

    /// <summary>Call only after the request was authenticated (<see cref="WebhookAuthenticator.CheckAsync"/> returned null).</summary>
    public static ClaimsPrincipal Of(HttpRequest request, WebhookAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        if (options.AllowAnonymous)
        {
            return new ClaimsPrincipal(new ClaimsIdentity());
        }
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) && BasicUser(header[6..].Trim()) is { } user)
        {
            return Named("Basic", user, []);
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && options.EntraId.IsConfigured && header[7..].Trim() is { } token
            && token.Count(c => c == '.') == 2 && !options.BearerTokens.Contains(token, StringComparer.Ordinal))
        {
            var jwt = new JsonWebToken(token);
            var name = NameClaims.Select(type => jwt.TryGetPayloadValue<string>(type, out var value) ? value : null).FirstOrDefault(v => !string.IsNullOrEmpty(v));
            var groups = jwt.Claims.Where(c => c.Type is "groups" or "roles").Select(c => c.Value).ToList();
            if (name is not null)
            {
                return Named("EntraId", name, groups);
            }
        }
        // A sender, not a person: no identity (an authenticated identity without a name is refused by anti-forgery too).
        return new ClaimsPrincipal(new ClaimsIdentity());
    }

    private static ClaimsPrincipal Named(string scheme, string name, IEnumerable<string> groups) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), .. groups.Select(g => new Claim("groups", g))], scheme));

    private static string? BasicUser(string encoded)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? decoded[..colon] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
