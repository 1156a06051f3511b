using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Remediation.Host;

/// <summary>
/// Webhook authentication of the standalone host (in Azure, function keys do this job): bearer tokens and
/// basic auth as Alertmanager's http_config sends them. Each list may hold two secrets during a rotation.
/// Secrets are compared in constant time and never logged.
/// </summary>
public sealed class WebhookAuthOptions
{
    public const string SectionName = "Remediation:Auth";

    /// <summary>Accepted bearer tokens (two during a rotation).</summary>
    public List<string> BearerTokens { get; set; } = [];
    public string? BasicUsername { get; set; }
    /// <summary>Accepted basic-auth passwords (two during a rotation).</summary>
    public List<string> BasicPasswords { get; set; } = [];
    /// <summary>Serve without authentication (local experiments only).</summary>
    public bool AllowAnonymous { get; set; }

    public bool HasCredentials => BearerTokens.Count > 0 || (BasicUsername is not null && BasicPasswords.Count > 0);

    public IEnumerable<string> Secrets() => BearerTokens.Concat(BasicPasswords);
}

public sealed class WebhookAuthenticator(WebhookAuthOptions options)
{
    /// <summary>Null when the request is authenticated, else the reason (without any secret in it).</summary>
    public string? Check(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options.AllowAnonymous)
        {
            return null;
        }
        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return "missing Authorization header (Bearer or Basic)";
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header[7..].Trim();
            return options.BearerTokens.Any(t => FixedEquals(t, token)) ? null : "bearer token not accepted";
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            }
            catch (FormatException)
            {
                return "malformed Basic credentials";
            }
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || options.BasicUsername is null)
            {
                return "basic credentials not accepted";
            }
            var user = decoded[..colon];
            var password = decoded[(colon + 1)..];
            var userOk = FixedEquals(options.BasicUsername, user);
            var passwordOk = options.BasicPasswords.Any(p => FixedEquals(p, password));
            return userOk && passwordOk ? null : "basic credentials not accepted";
        }
        return "unsupported Authorization scheme (use Bearer or Basic)";
    }

    private static bool FixedEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(actual)));
}
