using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Skeleton;

namespace Remediation.Tests.AzureSources;

/// <summary>
/// Authentication of the standalone host after a rotation: new bearer pair, new HMAC pair, Entra ID tokens with a
/// locally configured signing key. Every refusal is 401/403 and stores nothing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WebhookAuthTests(AzuriteFixture storage) : IAsyncLifetime, IDisposable
{
    private const string RetiredToken = HostHarness.Token;
    private const string NewTokenA = "bearer-2026-a-91c7";
    private const string NewTokenB = "bearer-2026-b-3e58";
    private const string RetiredHmac = "hmac-2025-retired-5d2a";
    private const string HmacA = "hmac-2026-a-77f0";
    private const string HmacB = "hmac-2026-b-c41e";
    private const string Tenant = "8e1f3a5c-2b7d-4c9e-a0f6-1d3b5e7a9c20";
    private const string Audience = "api://remediation-webhook";
    private const string AudienceNext = "5b0c7e2a-9d4f-4a61-8b3e-0f2d6c8a1e57";
    private const string EventGridClientId = "4962773b-9cdb-44cf-a8bf-237846a00ab7";

    private readonly RSA _signingKey = RSA.Create(2048);
    private readonly RSA _otherKey = RSA.Create(2048);
    private HostHarness _host = null!;
    private HttpClient _client = null!;
    private string _payload = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            // Rotation done: the harness's token is replaced by a new pair.
            ["Remediation:Auth:BearerTokens:0"] = NewTokenA,
            ["Remediation:Auth:BearerTokens:1"] = NewTokenB,
            ["Remediation:Auth:HmacSecrets:0"] = HmacA,
            ["Remediation:Auth:HmacSecrets:1"] = HmacB,
            ["Remediation:Auth:EntraId:TenantId"] = Tenant,
            ["Remediation:Auth:EntraId:Audiences:0"] = Audience,
            ["Remediation:Auth:EntraId:Audiences:1"] = AudienceNext,
            ["Remediation:Auth:EntraId:AllowedClientIds:0"] = EventGridClientId,
            ["Remediation:Auth:EntraId:SigningKeys"] = Jwks(_signingKey, "key-1"),
        };
        _host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, settings: settings);
        _client = new HttpClient { BaseAddress = _host.BaseAddress };
        _payload = await File.ReadAllTextAsync(RepoPaths.Payload("azuremonitor/metric-alert-fired.json"));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    public void Dispose()
    {
        _signingKey.Dispose();
        _otherKey.Dispose();
    }

    [Fact]
    public async Task Missing_credentials_are_401_with_a_challenge()
    {
        using var response = await SendAsync(Post());
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "missing Authorization header");
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Theory]
    [InlineData("wrong-token")]
    [InlineData(RetiredToken)]
    public async Task Wrong_or_retired_bearer_token_is_401(string token)
    {
        using var response = await SendAsync(Post(), new AuthenticationHeaderValue("Bearer", token));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "bearer token not accepted");
    }

    [Theory]
    [InlineData(NewTokenA)]
    [InlineData(NewTokenB)]
    public async Task Both_secrets_of_the_new_bearer_pair_are_accepted(string token)
    {
        using var response = await SendAsync(Post(), new AuthenticationHeaderValue("Bearer", token));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Theory]
    [InlineData(HmacA)]
    [InlineData(HmacB)]
    public async Task Hmac_signature_with_either_current_secret_is_accepted(string secret)
    {
        using var response = await SendAsync(Signed(secret, Now()));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task Hmac_signature_with_the_retired_secret_is_401()
    {
        using var response = await SendAsync(Signed(RetiredHmac, Now()));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "HMAC signature not accepted");
    }

    [Fact]
    public async Task Replayed_hmac_signature_is_401()
    {
        var timestamp = Now();
        using (var first = await SendAsync(Signed(HmacA, timestamp)))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }
        using var replay = await SendAsync(Signed(HmacA, timestamp));
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Contains("replayed", (await BadInputTests.ReadProblemAsync(replay)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Theory]
    [InlineData(-6 * 60)]
    [InlineData(+6 * 60)]
    public async Task Stale_or_future_timestamp_is_401(int offsetSeconds)
    {
        using var response = await SendAsync(Signed(HmacA, Now() + offsetSeconds));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "more than 5 minutes from the server's time");
    }

    [Fact]
    public async Task Signature_over_a_different_body_is_401()
    {
        var request = Signed(HmacA, Now());
        request.Content = new StringContent(_payload.Replace("Sev2", "Sev0", StringComparison.Ordinal), Encoding.UTF8, "application/json");
        using var response = await SendAsync(request);
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "HMAC signature not accepted");
    }

    [Fact]
    public async Task Hmac_signed_event_grid_delivery_is_accepted_and_the_endpoint_reads_the_body()
    {
        var body = await File.ReadAllTextAsync(RepoPaths.Payload("eventgrid/alert-eventgrid-schema.json"));
        using var response = await SendAsync(Signed(HmacB, Now(), body, "api/alerts/eventgrid"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var incident = Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
        Assert.Equal("checkout", incident.Workload);
    }

    [Theory]
    [InlineData(Audience, "https://login.microsoftonline.com/" + Tenant + "/v2.0")]
    [InlineData(AudienceNext, "https://sts.windows.net/" + Tenant + "/")]
    public async Task Entra_id_token_for_our_audience_is_accepted(string audience, string issuer)
    {
        using var response = await SendAsync(Post("api/alerts/eventgrid", await File.ReadAllTextAsync(RepoPaths.Payload("eventgrid/alert-eventgrid-schema.json"))),
            Bearer(Token(audience: audience, issuer: issuer)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task Entra_id_token_for_another_audience_is_401()
    {
        using var response = await SendAsync(Post(), Bearer(Token(audience: "api://some-other-app")));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "wrong audience");
    }

    [Fact]
    public async Task Entra_id_token_from_another_tenant_is_401()
    {
        using var response = await SendAsync(Post(), Bearer(Token(issuer: "https://login.microsoftonline.com/00000000-1111-2222-3333-444444444444/v2.0")));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "wrong issuer");
    }

    [Fact]
    public async Task Entra_id_token_signed_with_an_unknown_key_is_401()
    {
        using var response = await SendAsync(Post(), Bearer(Token(key: _otherKey, kid: "key-1")));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "signature not valid");
    }

    [Fact]
    public async Task Expired_entra_id_token_is_401()
    {
        var now = DateTime.UtcNow;
        using var response = await SendAsync(Post(), Bearer(Token(notBefore: now.AddHours(-2), expires: now.AddMinutes(-30))));
        await AssertRefusedAsync(response, HttpStatusCode.Unauthorized, "expired or not yet valid");
    }

    [Fact]
    public async Task Entra_id_token_of_a_caller_other_than_event_grid_is_403()
    {
        using var response = await SendAsync(Post(), Bearer(Token(clientId: "11112222-3333-4444-5555-666677778888")));
        await AssertRefusedAsync(response, HttpStatusCode.Forbidden, "not an allowed client");
    }

    private HttpRequestMessage Post(string route = "api/alerts/azuremonitor", string? body = null) =>
        new(HttpMethod.Post, route) { Content = new StringContent(body ?? _payload, Encoding.UTF8, "application/json") };

    private HttpRequestMessage Signed(string secret, long timestamp, string? body = null, string route = "api/alerts/azuremonitor")
    {
        body ??= _payload;
        var request = Post(route, body);
        var ts = timestamp.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(ts + "." + body));
        request.Headers.Add("X-Remediation-Timestamp", ts);
        request.Headers.Add("X-Remediation-Signature", "sha256=" + Convert.ToHexStringLower(mac));
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, AuthenticationHeaderValue? authorization = null)
    {
        using (request)
        {
            request.Headers.Authorization = authorization;
            return await _client.SendAsync(request);
        }
    }

    private async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        Assert.Equal(status, response.StatusCode);
        var detail = (await BadInputTests.ReadProblemAsync(response)).GetProperty("detail").GetString();
        Assert.Contains(reason, detail, StringComparison.Ordinal);
        foreach (var secret in new[] { NewTokenA, NewTokenB, HmacA, HmacB, RetiredHmac })
        {
            Assert.DoesNotContain(secret, detail, StringComparison.Ordinal);
        }
        Assert.Empty(await _host.Store.ListAsync(new IncidentQuery()));
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    private string Token(string audience = Audience, string issuer = "https://login.microsoftonline.com/" + Tenant + "/v2.0",
        RSA? key = null, string kid = "key-1", DateTime? notBefore = null, DateTime? expires = null, string clientId = EventGridClientId)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddHours(1),
            Subject = new ClaimsIdentity([new Claim("azp", clientId), new Claim("oid", "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b")]),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _signingKey) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static string Jwks(RSA key, string kid)
    {
        var p = key.ExportParameters(includePrivateParameters: false);
        return $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{kid}}","n":"{{Base64UrlEncoder.Encode(p.Modulus)}}","e":"{{Base64UrlEncoder.Encode(p.Exponent)}}"}]}""";
    }
}
