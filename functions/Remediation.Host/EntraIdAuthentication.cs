using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Remediation.Host;

/// <summary>
/// Entra ID access tokens through ASP.NET Core's JWT bearer handler (scheme <see cref="Scheme"/>): the tenant's v1 and
/// v2 issuers, the configured audiences, RS256 only, lifetimes by the host's <see cref="TimeProvider"/>; keys from the
/// tenant's OpenID metadata (fetched, cached and refreshed on an unknown key id by the handler) or from a configured
/// JWKS. <see cref="WebhookAuthenticator"/> asks it about bearer tokens that are none of the shared secrets. The token
/// is never saved or logged; the principal keeps the token's claims as issued (name, roles, groups, azp, oid).
/// </summary>
public static partial class EntraIdAuthentication
{
    public const string Scheme = "EntraId";
    public const string HttpClientName = "remediation-entra-metadata";

    /// <summary>What a sender is told to wait when the metadata could not be fetched; also the least time between fetches.</summary>
    public static readonly TimeSpan MetadataRetry = TimeSpan.FromMinutes(1);

    /// <summary>Registers the scheme when <paramref name="entra"/> is configured (nothing otherwise).</summary>
    public static IServiceCollection AddEntraIdAuthentication(this IServiceCollection services, EntraIdAuthOptions entra)
    {
        ArgumentNullException.ThrowIfNull(entra);
        if (!entra.IsConfigured)
        {
            return services;
        }
        services.AddHttpClient(HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10)).RemoveAllLoggers();
        services.AddAuthentication().AddJwtBearer(Scheme, _ => { });
        services.AddOptions<JwtBearerOptions>(Scheme)
            .Configure<TimeProvider, IHttpClientFactory>((options, clock, http) => Configure(options, entra, clock, http));
        return services;
    }

    private static void Configure(JwtBearerOptions options, EntraIdAuthOptions entra, TimeProvider clock, IHttpClientFactory http)
    {
        options.TimeProvider = clock;
        options.MapInboundClaims = false;
        options.SaveToken = false;
        options.IncludeErrorDetails = false;
        options.RefreshInterval = MetadataRetry;
        if (string.IsNullOrEmpty(entra.SigningKeys))
        {
            options.MetadataAddress = entra.Metadata.AbsoluteUri;
            options.RequireHttpsMetadata = !entra.MetadataOverLoopbackHttp;
            options.Backchannel = http.CreateClient(HttpClientName);
        }
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuers = entra.Issuers,
            ValidAudiences = entra.Audiences,
            IssuerSigningKeys = string.IsNullOrEmpty(entra.SigningKeys) ? null : new JsonWebKeySet(entra.SigningKeys).GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = entra.ClockSkew,
            // The default lifetime check reads the system clock; this one reads the host's.
            LifetimeValidator = (notBefore, expires, _, parameters) => IsCurrent(notBefore, expires, parameters.ClockSkew, clock.GetUtcNow()),
            NameClaimType = "name",
            RoleClaimType = "roles",
            // The validated caller's identity says it came from here (CallerPrincipal names a person only from a validated token).
            AuthenticationType = Scheme,
        };
        options.Events = new JwtBearerEvents { OnMessageReceived = OnMessageReceivedAsync, OnTokenValidated = OnTokenValidated };
    }

    /// <summary>
    /// The request's Entra ID result, mapped to a refusal: null when the token is valid and its caller allowed (the
    /// principal is then in <see cref="HttpContext.User"/>); 503 when the tenant's keys could not be fetched.
    /// </summary>
    public static async Task<AuthFailure?> AuthenticateAsync(HttpContext context, EntraIdAuthOptions entra)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(entra);
        var result = await context.AuthenticateAsync(Scheme).ConfigureAwait(false);
        if (result.Succeeded)
        {
            var client = result.Principal.FindFirst("azp")?.Value ?? result.Principal.FindFirst("appid")?.Value;
            if (entra.AllowedClientIds.Count > 0 && (client is null || !entra.AllowedClientIds.Contains(client, StringComparer.OrdinalIgnoreCase)))
            {
                return new AuthFailure(403, $"Entra ID caller '{client ?? "(none)"}' is not an allowed client");
            }
            context.User = result.Principal;
            return null;
        }
        return result.Failure switch
        {
            null => new AuthFailure(401, "bearer token not accepted"),
            MetadataUnavailableException => new AuthFailure(503, "Entra ID signing keys are unavailable (the tenant's OpenID metadata could not be fetched); retry later", MetadataRetry),
            SecurityTokenInvalidAudienceException => new AuthFailure(401, "Entra ID token not accepted: wrong audience"),
            SecurityTokenInvalidIssuerException => new AuthFailure(401, "Entra ID token not accepted: wrong issuer (tenant)"),
            SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException or SecurityTokenNotYetValidException or SecurityTokenNoExpirationException
                => new AuthFailure(401, "Entra ID token not accepted: expired or not yet valid"),
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
                => new AuthFailure(401, "Entra ID token not accepted: signature not valid"),
            SecurityTokenInvalidAlgorithmException => new AuthFailure(401, "Entra ID token not accepted: algorithm not allowed (RS256 only)"),
            _ => new AuthFailure(401, "Entra ID token not accepted: malformed token"),
        };
    }

    /// <summary>exp (required) not passed and nbf (if any) reached at <paramref name="now"/>, give or take <paramref name="skew"/>.</summary>
    private static bool IsCurrent(DateTime? notBefore, DateTime? expires, TimeSpan skew, DateTimeOffset now) =>
        expires is { } exp && new DateTimeOffset(DateTime.SpecifyKind(exp, DateTimeKind.Utc)) + skew >= now
        && (notBefore is not { } nbf || new DateTimeOffset(DateTime.SpecifyKind(nbf, DateTimeKind.Utc)) - skew <= now);

    /// <summary>True when <paramref name="token"/> has the shape of a JWS (header.payload.signature).</summary>
    public static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2;

    /// <summary>
    /// Only JWS-shaped bearer tokens are the handler's; the metadata is fetched first so an unreachable authority is
    /// told apart from a bad token (503, not 401).
    /// </summary>
    private static async Task OnMessageReceivedAsync(MessageReceivedContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !LooksLikeJwt(header[7..].Trim()))
        {
            context.NoResult();
            return;
        }
        if (context.Options.ConfigurationManager is not { } metadata)
        {
            return;
        }
        try
        {
            _ = await metadata.GetConfigurationAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException)
        {
            var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(EntraIdAuthentication));
            LogMetadataUnavailable(logger, context.Options.MetadataAddress ?? "", ex.Message);
            context.Fail(new MetadataUnavailableException(ex));
        }
    }

    /// <summary>A principal always has a name: the user's, else the calling application's (azp/appid), else its object id.</summary>
    private static Task OnTokenValidated(TokenValidatedContext context)
    {
        if (context.Principal?.Identity is ClaimsIdentity { Name: null } identity)
        {
            var name = identity.FindFirst("preferred_username") ?? identity.FindFirst("azp") ?? identity.FindFirst("appid") ?? identity.FindFirst("oid");
            if (name is not null)
            {
                identity.AddClaim(new Claim(identity.NameClaimType, name.Value));
            }
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Entra ID signing keys could not be fetched from {Metadata}: {Error}")]
    private static partial void LogMetadataUnavailable(ILogger logger, string metadata, string error);

    /// <summary>The tenant's OpenID metadata or keys could not be fetched.</summary>
    private sealed class MetadataUnavailableException(Exception inner) : Exception("Entra ID metadata unavailable", inner);
}
