using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Remediation.Http;

namespace Remediation.Host;

/// <summary>
/// Webhook authentication of the standalone host (in Azure, function keys do this job), config section
/// <c>Remediation:Auth</c>. Schemes, any of which may be configured at once:
/// <list type="bullet">
/// <item>bearer tokens and basic auth, as Alertmanager's http_config sends them;</item>
/// <item>an HMAC-SHA256 signature of <c>{timestamp}.{body}</c> (X-Remediation-Signature: sha256=&lt;hex&gt;,
/// X-Remediation-Timestamp: unix seconds), timestamps outside ±<see cref="HmacTolerance"/> rejected, each signature
/// accepted once within that window (bounded in-memory replay cache);</item>
/// <item>Microsoft Entra ID tokens, as Event Grid sends them to an Entra-protected webhook (<see cref="EntraId"/>),
/// validated by ASP.NET Core's JWT bearer handler (<see cref="EntraIdAuthentication"/>).</item>
/// </list>
/// Every secret list may hold two secrets during a rotation (Entra ID: two audiences, and the signing-key set holds
/// every current key). Secrets are compared in constant time and never logged.
/// </summary>
public sealed class WebhookAuthOptions
{
    public const string SectionName = "Remediation:Auth";

    /// <summary>Accepted bearer tokens (two during a rotation).</summary>
    public List<string> BearerTokens { get; set; } = [];
    public string? BasicUsername { get; set; }
    /// <summary>Accepted basic-auth passwords (two during a rotation).</summary>
    public List<string> BasicPasswords { get; set; } = [];
    /// <summary>Accepted HMAC signing secrets (two during a rotation).</summary>
    public List<string> HmacSecrets { get; set; } = [];
    /// <summary>How far X-Remediation-Timestamp may be from now; also how long a signature is remembered against replay.</summary>
    public TimeSpan HmacTolerance { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Most signatures remembered against replay; past it the oldest are forgotten first.</summary>
    public int HmacReplayCacheSize { get; set; } = 100_000;
    /// <summary>Microsoft Entra ID bearer tokens (Event Grid's Entra-protected delivery).</summary>
    public EntraIdAuthOptions EntraId { get; set; } = new();
    /// <summary>CloudEvents abuse-protection origins granted by the OPTIONS handshake (empty: any, e.g. eventgrid.azure.net).</summary>
    public List<string> AllowedWebHookOrigins { get; set; } = [];
    /// <summary>Serve without authentication (local experiments only).</summary>
    public bool AllowAnonymous { get; set; }

    public bool HasCredentials =>
        BearerTokens.Count > 0 || (BasicUsername is not null && BasicPasswords.Count > 0) || HmacSecrets.Count > 0 || EntraId.IsConfigured;

    public IEnumerable<string> Secrets() => BearerTokens.Concat(BasicPasswords).Concat(HmacSecrets);

    /// <summary>What keeps the host from starting with these settings, in one line naming the setting, or null.</summary>
    public string? Problem() => !HasCredentials && !AllowAnonymous
        ? "no webhook credentials configured: set Remediation:Auth:BearerTokens:0 (or BasicUsername + BasicPasswords:0, HmacSecrets:0, EntraId:TenantId + EntraId:Audiences:0), or Remediation:Auth:AllowAnonymous=true for local experiments"
        : EntraId.Problem();
}

/// <summary>
/// Why a request was refused: the status (401 or 403; 413 when a signed body is too large; 503 with
/// <paramref name="RetryAfter"/> when the Entra ID keys could not be fetched) and a reason without secrets.
/// </summary>
public sealed record AuthFailure(int Status, string Reason, TimeSpan? RetryAfter = null)
{
    /// <summary>The problem+json answer; a 401 carries <paramref name="challenge"/> as WWW-Authenticate, a 503 Retry-After.</summary>
    public IResult ToResult(HttpContext context, string challenge, string? field = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Status == 401)
        {
            context.Response.Headers.WWWAuthenticate = challenge;
        }
        return Status switch
        {
            503 => ApiProblem.Unavailable(Reason, RetryAfter ?? EntraIdAuthentication.MetadataRetry),
            401 => ApiProblem.Result(401, "Unauthorized", Reason, field),
            403 => ApiProblem.Result(403, "Forbidden", Reason, field),
            _ => ApiProblem.Result(Status, "Payload Too Large", Reason, field),
        };
    }
}

/// <summary>
/// Checks a request's credentials against <see cref="WebhookAuthOptions"/>; an accepted caller becomes the request's
/// <see cref="HttpContext.User"/> (Basic: the user name; Entra ID: the token's claims; shared bearer token and HMAC:
/// a principal named after the scheme).
/// </summary>
public sealed partial class WebhookAuthenticator(WebhookAuthOptions options, TimeProvider timeProvider, ILogger<WebhookAuthenticator> logger)
{
    /// <summary>The authentication type of a principal accepted by its Basic credentials (the one scheme here that names a person without Entra ID).</summary>
    public const string BasicScheme = "Basic";

    public const string SignatureHeader = "X-Remediation-Signature";
    public const string TimestampHeader = "X-Remediation-Timestamp";

    private readonly ReplayCache _replays = new(options.HmacReplayCacheSize);

    /// <summary>The WWW-Authenticate challenge for a 401.</summary>
    public string Challenge => options.HmacSecrets.Count > 0
        ? "Bearer, Basic realm=\"remediation\", HMAC-SHA256 headers=\"X-Remediation-Timestamp X-Remediation-Signature\""
        : "Bearer, Basic realm=\"remediation\"";

    /// <summary>Null when the request is authenticated, else the refusal (without any secret in it).</summary>
    public async Task<AuthFailure?> CheckAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options.AllowAnonymous)
        {
            return null;
        }
        var failure = await CheckCredentialsAsync(request, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            LogRefused(request.Method, request.Path.Value ?? "", failure.Status, failure.Reason);
        }
        return failure;
    }

    private async Task<AuthFailure?> CheckCredentialsAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.Headers.ContainsKey(SignatureHeader))
        {
            return await CheckSignatureAsync(request, cancellationToken).ConfigureAwait(false);
        }
        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return Unauthorized($"missing Authorization header (Bearer or Basic) or {SignatureHeader}");
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header[7..].Trim();
            if (options.BearerTokens.Any(t => FixedEquals(t, token)))
            {
                return Accept(request, "Bearer", "shared bearer token");
            }
            if (options.EntraId.IsConfigured && EntraIdAuthentication.LooksLikeJwt(token))
            {
                return await EntraIdAuthentication.AuthenticateAsync(request.HttpContext, options.EntraId).ConfigureAwait(false);
            }
            return Unauthorized("bearer token not accepted");
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return CheckBasic(request, header[6..].Trim());
        }
        return Unauthorized("unsupported Authorization scheme (use Bearer or Basic)");
    }

    private AuthFailure? CheckBasic(HttpRequest request, string encoded)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return Unauthorized("malformed Basic credentials");
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || options.BasicUsername is null)
        {
            return Unauthorized("basic credentials not accepted");
        }
        var userOk = FixedEquals(options.BasicUsername, decoded[..colon]);
        var password = decoded[(colon + 1)..];
        var passwordOk = options.BasicPasswords.Any(p => FixedEquals(p, password));
        return userOk && passwordOk ? Accept(request, BasicScheme, options.BasicUsername) : Unauthorized("basic credentials not accepted");
    }

    private async Task<AuthFailure?> CheckSignatureAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (options.HmacSecrets.Count == 0)
        {
            return Unauthorized("HMAC signatures are not configured on this host");
        }
        var signatureText = request.Headers[SignatureHeader].ToString().Trim();
        if (!signatureText.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) || signatureText.Length != 7 + 64)
        {
            return Unauthorized($"malformed {SignatureHeader}; expected sha256=<64 hex digits>");
        }
        byte[] signature;
        try
        {
            signature = Convert.FromHexString(signatureText.AsSpan(7));
        }
        catch (FormatException)
        {
            return Unauthorized($"malformed {SignatureHeader}; expected sha256=<64 hex digits>");
        }
        var timestampText = request.Headers[TimestampHeader].ToString().Trim();
        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253402300799)
        {
            return Unauthorized($"missing or malformed {TimestampHeader}; expected unix seconds");
        }
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds);
        var now = timeProvider.GetUtcNow();
        if ((now - timestamp).Duration() > options.HmacTolerance)
        {
            return Unauthorized($"{TimestampHeader} is more than {options.HmacTolerance.TotalMinutes:0.#} minutes from the server's time (stale or replayed request)");
        }

        // The endpoint reads the body again: buffer it and rewind.
        request.EnableBuffering(RequestBody.MaxBytes + 1);
        var body = await RequestBody.ReadAsync(request, cancellationToken).ConfigureAwait(false);
        request.Body.Position = 0;
        if (body is null)
        {
            return new AuthFailure(413, $"the request body exceeds {RequestBody.MaxBytes} bytes");
        }
        var prefix = Encoding.ASCII.GetBytes(timestampText + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        var matched = false;
        foreach (var secret in options.HmacSecrets)
        {
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
            matched |= CryptographicOperations.FixedTimeEquals(expected, signature);
        }
        if (!matched)
        {
            return Unauthorized("HMAC signature not accepted");
        }
        if (!_replays.TryRemember(Convert.ToHexStringLower(signature), timestamp + options.HmacTolerance, now))
        {
            return Unauthorized("HMAC signature already used (replayed request)");
        }
        return Accept(request, "HMAC-SHA256", "HMAC-signed sender");
    }

    private static AuthFailure Unauthorized(string reason) => new(401, reason);

    /// <summary>The caller, as the request's principal (read by endpoints that record who acted); no refusal.</summary>
    private static AuthFailure? Accept(HttpRequest request, string scheme, string name)
    {
        request.HttpContext.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], scheme));
        return null;
    }

    private static bool FixedEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(actual)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path}: {Status} {Reason}")]
    private partial void LogRefused(string method, string path, int status, string reason);

    /// <summary>Signatures seen within the tolerance window; bounded, the soonest-expiring forgotten first.</summary>
    private sealed class ReplayCache(int capacity)
    {
        private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
        private readonly PriorityQueue<string, DateTimeOffset> _expiry = new();
        private readonly Lock _lock = new();

        public bool TryRemember(string signature, DateTimeOffset expiresAt, DateTimeOffset now)
        {
            lock (_lock)
            {
                while (_expiry.TryPeek(out var oldest, out var at) && (at <= now || _seen.Count >= Math.Max(1, capacity)))
                {
                    _expiry.Dequeue();
                    _seen.Remove(oldest);
                }
                if (!_seen.TryAdd(signature, expiresAt))
                {
                    return false;
                }
                _expiry.Enqueue(signature, expiresAt);
                return true;
            }
        }
    }
}
