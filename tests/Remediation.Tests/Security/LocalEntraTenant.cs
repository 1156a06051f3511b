using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Security;

/// <summary>
/// An Entra ID tenant on loopback http: its OpenID configuration and JWKS, as login.microsoftonline.com serves them,
/// counted per request; the published keys can change (a rotation). Also mints the tenant's tokens.
/// </summary>
public sealed class LocalEntraTenant : IAsyncDisposable
{
    public const string TenantId = "3c9d2e71-5a4b-4f08-9e6d-1b2c3d4e5f60";
    public const string V2Issuer = "https://login.microsoftonline.com/" + TenantId + "/v2.0";
    public const string V1Issuer = "https://sts.windows.net/" + TenantId + "/";
    public const string Audience = "api://remediation-webhook";
    public const string ClientId = "4962773b-9cdb-44cf-a8bf-237846a00ab7";

    private readonly WebApplication _app;
    private string _jwks = """{"keys":[]}""";
    private int _metadataRequests;
    private int _keyRequests;

    private LocalEntraTenant(WebApplication app, Uri root)
    {
        _app = app;
        MetadataAddress = new Uri(root, $"{TenantId}/v2.0/.well-known/openid-configuration");
    }

    public Uri MetadataAddress { get; }
    public int MetadataRequests => Volatile.Read(ref _metadataRequests);
    public int KeyRequests => Volatile.Read(ref _keyRequests);

    public static async Task<LocalEntraTenant> StartAsync(params (RSA Key, string Kid)[] keys)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var tenant = new LocalEntraTenant(app, new Uri($"http://127.0.0.1:{port}/"));
        tenant.Publish(keys);
        var keysUri = new Uri(tenant.MetadataAddress, $"/{TenantId}/discovery/v2.0/keys");
        app.MapGet($"/{TenantId}/v2.0/.well-known/openid-configuration", () =>
        {
            Interlocked.Increment(ref tenant._metadataRequests);
            return Results.Text($$"""{"issuer":"{{V2Issuer}}","jwks_uri":"{{keysUri}}","id_token_signing_alg_values_supported":["RS256"]}""", "application/json");
        });
        app.MapGet(keysUri.AbsolutePath, () =>
        {
            Interlocked.Increment(ref tenant._keyRequests);
            return Results.Text(Volatile.Read(ref tenant._jwks), "application/json");
        });
        await app.StartAsync();
        return tenant;
    }

    /// <summary>The keys the tenant publishes from now on.</summary>
    public void Publish(params (RSA Key, string Kid)[] keys) => Volatile.Write(ref _jwks, Jwks(keys));

    public static string Jwks(params (RSA Key, string Kid)[] keys) =>
        """{"keys":[""" + string.Join(",", keys.Select(k =>
        {
            var p = k.Key.ExportParameters(includePrivateParameters: false);
            return $$"""{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{k.Kid}}","n":"{{Base64UrlEncoder.Encode(p.Modulus)}}","e":"{{Base64UrlEncoder.Encode(p.Exponent)}}"}""";
        })) + "]}";

    /// <summary>An access token of the tenant; <paramref name="key"/> null: unsigned (alg none).</summary>
    public static string Token(RSA? key, string kid = "key-1", string audience = Audience, string issuer = V2Issuer,
        DateTimeOffset? now = null, TimeSpan? notBefore = null, TimeSpan? lifetime = null, IDictionary<string, object>? claims = null)
    {
        var at = now ?? TimeProvider.System.GetUtcNow();
        var nbf = at + (notBefore ?? TimeSpan.FromMinutes(-1));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = nbf.UtcDateTime,
            IssuedAt = nbf.UtcDateTime,
            Expires = (nbf + (lifetime ?? TimeSpan.FromHours(1))).UtcDateTime,
            Subject = new ClaimsIdentity([new Claim("azp", ClientId), new Claim("oid", "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b")]),
            Claims = claims,
            SigningCredentials = key is null ? null : new SigningCredentials(new RsaSecurityKey(key) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
