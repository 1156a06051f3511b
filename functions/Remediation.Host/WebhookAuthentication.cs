using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
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
/// <item>Microsoft Entra ID tokens, as Event Grid sends them to an Entra-protected webhook (<see cref="EntraId"/>).</item>
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
}

/// <summary>Remediation:Auth:EntraId — validation of Entra ID access tokens (RS256).</summary>
public sealed class EntraIdAuthOptions
{
    /// <summary>Directory (tenant) id; issuers https://login.microsoftonline.com/{tenant}/v2.0 and https://sts.windows.net/{tenant}/ are accepted.</summary>
    public string? TenantId { get; set; }
    /// <summary>Accepted audiences: the app id URI and/or client id of the app registration protecting the webhook (two during a rotation).</summary>
    public List<string> Audiences { get; set; } = [];
    /// <summary>Accepted callers (azp / appid claim), e.g. Event Grid's application id; empty: any caller of the tenant.</summary>
    public List<string> AllowedClientIds { get; set; } = [];
    /// <summary>
    /// A JWKS document ({"keys": [...]}) to validate signatures with instead of fetching the authority's metadata
    /// (tests, air-gapped installs). When unset, keys come from <see cref="MetadataAddress"/>.
    /// </summary>
    public string? SigningKeys { get; set; }
    /// <summary>OpenID configuration URL; default https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration.</summary>
    public string? MetadataAddress { get; set; }
    /// <summary>Allowed clock difference for exp/nbf.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    public bool IsConfigured => !string.IsNullOrEmpty(TenantId) && Audiences.Count > 0;
}

/// <summary>Why a request was refused: the status (401 or 403; 413 when a signed body is too large) and a reason without secrets.</summary>
public sealed record AuthFailure(int Status, string Reason);

public sealed partial class WebhookAuthenticator(WebhookAuthOptions options, TimeProvider timeProvider, ILogger<WebhookAuthenticator> logger,
    IHttpClientFactory? httpClients = null) : IDisposable
{
    public const string SignatureHeader = "X-Remediation-Signature";
    public const string TimestampHeader = "X-Remediation-Timestamp";

    private readonly ReplayCache _replays = new(options.HmacReplayCacheSize);
    private readonly EntraSigningKeys? _entraKeys = options.EntraId.IsConfigured ? new EntraSigningKeys(options.EntraId, timeProvider, httpClients) : null;

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
                return null;
            }
            if (_entraKeys is not null && token.Count(c => c == '.') == 2)
            {
                return await CheckEntraTokenAsync(token, cancellationToken).ConfigureAwait(false);
            }
            return Unauthorized("bearer token not accepted");
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return CheckBasic(header[6..].Trim());
        }
        return Unauthorized("unsupported Authorization scheme (use Bearer or Basic)");
    }

    private AuthFailure? CheckBasic(string encoded)
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
        return userOk && passwordOk ? null : Unauthorized("basic credentials not accepted");
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
        return null;
    }

    private async Task<AuthFailure?> CheckEntraTokenAsync(string token, CancellationToken cancellationToken)
    {
        var entra = options.EntraId;
        IReadOnlyList<SecurityKey> keys;
        try
        {
            keys = await _entraKeys!.GetAsync(refresh: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or ArgumentException or TaskCanceledException)
        {
            LogKeysUnavailable(ex.Message);
            return Unauthorized("Entra ID signing keys are unavailable; token not validated");
        }
        var parameters = new TokenValidationParameters
        {
            ValidIssuers = [$"https://login.microsoftonline.com/{entra.TenantId}/v2.0", $"https://sts.windows.net/{entra.TenantId}/"],
            ValidAudiences = entra.Audiences,
            IssuerSigningKeys = keys,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            LifetimeValidator = ValidateLifetime,
        };
        var handler = new JsonWebTokenHandler();
        var result = await handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && _entraKeys.CanRefresh)
        {
            // Keys rotated since we fetched them: refetch once, then retry.
            parameters.IssuerSigningKeys = await _entraKeys.GetAsync(refresh: true, cancellationToken).ConfigureAwait(false);
            result = await handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        }
        if (!result.IsValid)
        {
            return Unauthorized(result.Exception switch
            {
                SecurityTokenInvalidAudienceException => "Entra ID token not accepted: wrong audience",
                SecurityTokenInvalidIssuerException => "Entra ID token not accepted: wrong issuer (tenant)",
                SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException or SecurityTokenNotYetValidException or SecurityTokenNoExpirationException
                    => "Entra ID token not accepted: expired or not yet valid",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
                    => "Entra ID token not accepted: signature not valid",
                SecurityTokenInvalidAlgorithmException => "Entra ID token not accepted: algorithm not allowed (RS256 only)",
                _ => "Entra ID token not accepted: malformed token",
            });
        }
        if (entra.AllowedClientIds.Count > 0)
        {
            var client = (result.Claims.TryGetValue("azp", out var azp) ? azp : result.Claims.TryGetValue("appid", out var appId) ? appId : null)?.ToString();
            if (client is null || !entra.AllowedClientIds.Contains(client, StringComparer.OrdinalIgnoreCase))
            {
                return new AuthFailure(403, $"Entra ID caller '{client ?? "(none)"}' is not an allowed client");
            }
        }
        return null;
    }

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = timeProvider.GetUtcNow();
        var skew = options.EntraId.ClockSkew;
        if (expires is null || new DateTimeOffset(DateTime.SpecifyKind(expires.Value, DateTimeKind.Utc)) + skew < now)
        {
            return false;
        }
        return notBefore is null || new DateTimeOffset(DateTime.SpecifyKind(notBefore.Value, DateTimeKind.Utc)) - skew <= now;
    }

    private static AuthFailure Unauthorized(string reason) => new(401, reason);

    private static bool FixedEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(actual)));

    public void Dispose() => _entraKeys?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path}: {Status} {Reason}")]
    private partial void LogRefused(string method, string path, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Entra ID signing keys could not be fetched: {Error}")]
    private partial void LogKeysUnavailable(string error);

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

/// <summary>Entra ID signing keys: the configured JWKS, or the authority's, fetched via its OpenID configuration and cached.</summary>
internal sealed class EntraSigningKeys(EntraIdAuthOptions options, TimeProvider timeProvider, IHttpClientFactory? httpClients) : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromHours(12);
    private static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMinutes(5);
    private readonly HttpClient? _http = string.IsNullOrEmpty(options.SigningKeys) ? Metadata(options, httpClients) : null;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey>? _keys;
    private DateTimeOffset _fetchedAt;

    public bool CanRefresh => string.IsNullOrEmpty(options.SigningKeys) && timeProvider.GetUtcNow() - _fetchedAt > MinRefreshInterval;

    public async Task<IReadOnlyList<SecurityKey>> GetAsync(bool refresh, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrEmpty(options.SigningKeys))
        {
            return _keys ??= new JsonWebKeySet(options.SigningKeys).GetSigningKeys().ToList();
        }
        var now = timeProvider.GetUtcNow();
        if (_keys is { } cached && !refresh && now - _fetchedAt < CacheFor)
        {
            return cached;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_keys is { } again && now - _fetchedAt < (refresh ? MinRefreshInterval : CacheFor))
            {
                return again;
            }
            var metadata = options.MetadataAddress ?? $"https://login.microsoftonline.com/{options.TenantId}/v2.0/.well-known/openid-configuration";
            using var configuration = await _http!.GetFromJsonAsync(metadata, EntraJsonContext.Default.JsonDocument, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("empty OpenID configuration");
            var jwksUri = configuration.RootElement.TryGetProperty("jwks_uri", out var uri) && uri.ValueKind == JsonValueKind.String
                ? uri.GetString()!
                : throw new JsonException("OpenID configuration without jwks_uri");
            var jwks = await _http!.GetStringAsync(new Uri(jwksUri), cancellationToken).ConfigureAwait(false);
            _keys = new JsonWebKeySet(jwks).GetSigningKeys().ToList();
            _fetchedAt = timeProvider.GetUtcNow();
            return _keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _http?.Dispose();
        _gate.Dispose();
    }

    private static HttpClient Metadata(EntraIdAuthOptions options, IHttpClientFactory? httpClients)
    {
        if (httpClients is null)
        {
            throw new ArgumentNullException(nameof(httpClients), "Entra ID keys from the authority's metadata need an HTTP client factory (or set Remediation:Auth:EntraId:SigningKeys)");
        }
        var client = httpClients.CreateClient(nameof(EntraSigningKeys));
        client.Timeout = TimeSpan.FromSeconds(10);
        return client;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonDocument))]
internal sealed partial class EntraJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
