using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Remediation.Host;

/// <summary>
/// The person behind a request, for the answers to approval requests, taken from the principal the
/// <see cref="WebhookAuthenticator"/> established when it accepted the request, never from headers read again: a Basic
/// user is named by its user name; a validated Entra ID token by its preferred_username (else upn, email, oid), with its
/// groups and roles. A shared bearer token or an HMAC signature authenticates a sender, not a person: the principal
/// names nobody and cannot approve, whatever else the request carries. Anonymous hosts name nobody.
/// </summary>
public static class CallerPrincipal
{
    private static readonly string[] NameClaims = ["preferred_username", "upn", "email", "oid"];

    /// <summary>Call only after the request was authenticated (<see cref="WebhookAuthenticator.CheckAsync"/> returned null).</summary>
    public static ClaimsPrincipal Of(HttpContext context, bool anonymous)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (anonymous || context.User.Identity is not ClaimsIdentity { IsAuthenticated: true } identity)
        {
            return Nobody();
        }
        switch (identity.AuthenticationType)
        {
            case WebhookAuthenticator.BasicScheme when identity.Name is { Length: > 0 } user:
                return Named(WebhookAuthenticator.BasicScheme, user, []);
            case EntraIdAuthentication.Scheme:
                var name = NameClaims.Select(type => identity.FindFirst(type)?.Value).FirstOrDefault(v => !string.IsNullOrEmpty(v));
                var groups = identity.Claims.Where(c => c.Type is "groups" or "roles").Select(c => c.Value).ToList();
                return name is null ? Nobody() : Named(EntraIdAuthentication.Scheme, name, groups);
            default:
                // A sender, not a person: no identity (an authenticated identity without a name is refused by anti-forgery too).
                return Nobody();
        }
    }

    private static ClaimsPrincipal Nobody() => new(new ClaimsIdentity());

    private static ClaimsPrincipal Named(string scheme, string name, IEnumerable<string> groups) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), .. groups.Select(g => new Claim("groups", g))], scheme));
}
