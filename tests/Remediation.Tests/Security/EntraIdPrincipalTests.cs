using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Remediation.Host;

namespace Remediation.Tests.Security;

/// <summary>
/// What an accepted Entra ID token leaves for the endpoints (the caller as HttpContext.User: name, roles, groups), the
/// host's clock deciding a token's lifetime, and Entra settings refused at start in one line.
/// </summary>
public sealed class EntraIdPrincipalTests : IDisposable
{
    private readonly RSA _key = RSA.Create(2048);
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2031-03-14T09:00:00Z", CultureInfo.InvariantCulture));
    private readonly WebhookAuthOptions _options;
    private readonly ServiceProvider _services;

    public EntraIdPrincipalTests()
    {
        _options = new WebhookAuthOptions
        {
            BasicUsername = "alertmanager",
            BasicPasswords = ["basic-secret-3f1"],
            EntraId = new EntraIdAuthOptions
            {
                TenantId = LocalEntraTenant.TenantId,
                Audiences = [LocalEntraTenant.Audience],
                SigningKeys = LocalEntraTenant.Jwks((_key, "key-1")),
            },
        };
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_clock);
        services.AddEntraIdAuthentication(_options.EntraId);
        _services = services.BuildServiceProvider();
    }

    public void Dispose()
    {
        _services.Dispose();
        _key.Dispose();
    }

    [Fact]
    public async Task A_user_token_becomes_the_principal_with_its_name_roles_and_groups()
    {
        var token = LocalEntraTenant.Token(_key, now: _clock.GetUtcNow(), claims: new Dictionary<string, object>
        {
            ["name"] = "Dana Operator",
            ["roles"] = new[] { "Remediation.Approver" },
            ["groups"] = new[] { "6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b" },
        });
        var (failure, user) = await CheckAsync("Bearer " + token);
        Assert.Null(failure);
        Assert.Equal("Dana Operator", user.Identity?.Name);
        Assert.True(user.Identity?.IsAuthenticated);
        Assert.True(user.IsInRole("Remediation.Approver"));
        Assert.Equal("6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b", user.FindFirst("groups")?.Value);
    }

    [Fact]
    public async Task An_application_token_is_named_after_the_calling_application()
    {
        var (failure, user) = await CheckAsync("Bearer " + LocalEntraTenant.Token(_key, now: _clock.GetUtcNow()));
        Assert.Null(failure);
        Assert.Equal(LocalEntraTenant.ClientId, user.Identity?.Name);
    }

    [Fact]
    public async Task Basic_credentials_become_a_principal_named_after_the_user()
    {
        var (failure, user) = await CheckAsync("Basic " + Convert.ToBase64String("alertmanager:basic-secret-3f1"u8.ToArray()));
        Assert.Null(failure);
        Assert.Equal("alertmanager", user.Identity?.Name);
        Assert.Equal("Basic", user.Identity?.AuthenticationType);
    }

    [Fact]
    public async Task Lifetime_follows_the_hosts_clock_not_the_machines()
    {
        // Minted for 2031 (the host's clock): not yet valid by the machine's clock, valid by the host's.
        var token = "Bearer " + LocalEntraTenant.Token(_key, now: _clock.GetUtcNow(), lifetime: TimeSpan.FromHours(1));
        Assert.Null((await CheckAsync(token)).Failure);

        _clock.Advance(TimeSpan.FromMinutes(50) + TimeSpan.FromMinutes(5));
        Assert.Null((await CheckAsync(token)).Failure);

        _clock.Advance(TimeSpan.FromMinutes(15));
        var expired = (await CheckAsync(token)).Failure;
        Assert.Equal(401, expired?.Status);
        Assert.Contains("expired or not yet valid", expired?.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Remediation:Auth:EntraId:MetadataAddress", "http://login.example.com/x/.well-known/openid-configuration", "uses http")]
    [InlineData("Remediation:Auth:EntraId:MetadataAddress", "openid-configuration", "is not an absolute URL")]
    [InlineData("Remediation:Auth:EntraId:SigningKeys", "{not json", "is not a JWKS document")]
    [InlineData("Remediation:Auth:EntraId:SigningKeys", """{"keys":[]}""", "holds no usable signing key")]
    [InlineData("Remediation:Auth:EntraId:TenantId", "contoso/../other", "is not a tenant id")]
    [InlineData("Remediation:Auth:EntraId:Audiences:0", null, "must be set together")]
    public void A_bad_entra_setting_is_refused_at_start_in_one_line(string key, string? value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Remediation:Auth:BearerTokens:0"] = "t",
            ["Remediation:Auth:EntraId:TenantId"] = LocalEntraTenant.TenantId,
            ["Remediation:Auth:EntraId:Audiences:0"] = LocalEntraTenant.Audience,
            [key] = value,
        };
        var ex = Assert.Throws<HostSettingsException>(() => StandaloneHost.Build([], settings));
        Assert.Contains(key.Replace(":0", "", StringComparison.Ordinal), ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    /// <summary>One request in its own scope, as the host runs it; the refusal (null: accepted) and the request's user.</summary>
    private async Task<(AuthFailure? Failure, ClaimsPrincipal User)> CheckAsync(string authorization)
    {
        await using var scope = _services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = "POST";
        context.Request.Headers.Authorization = authorization;
        var authenticator = new WebhookAuthenticator(_options, _clock, NullLogger<WebhookAuthenticator>.Instance);
        var failure = await authenticator.CheckAsync(context.Request);
        return (failure, context.User);
    }
}
