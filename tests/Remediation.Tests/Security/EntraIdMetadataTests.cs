using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Skeleton;

namespace Remediation.Tests.Security;

/// <summary>
/// Entra ID tokens against a tenant that serves its OpenID metadata and keys over loopback http (what the JWT bearer
/// handler fetches from login.microsoftonline.com in production): accepted, each kind of bad token refused with 401,
/// a published key rotation followed, an unreachable tenant answered with 503 + Retry-After; no token text logged.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EntraIdMetadataTests(AzuriteFixture storage) : IAsyncLifetime, IDisposable
{
    private readonly RSA _key1 = RSA.Create(2048);
    private readonly RSA _key2 = RSA.Create(2048);
    private readonly RSA _stranger = RSA.Create(2048);
    private readonly RecordingLoggerProvider _logs = new();
    private LocalEntraTenant _tenant = null!;
    private HostHarness _host = null!;
    private HttpClient _client = null!;
    private string _payload = null!;

    public async Task InitializeAsync()
    {
        _tenant = await LocalEntraTenant.StartAsync((_key1, "key-1"));
        _host = await StartHostAsync(_tenant.MetadataAddress, _logs);
        _client = new HttpClient { BaseAddress = _host.BaseAddress };
        _payload = await File.ReadAllTextAsync(RepoPaths.Payload("azuremonitor/metric-alert-fired.json"));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        await _tenant.DisposeAsync();
    }

    public void Dispose()
    {
        _key1.Dispose();
        _key2.Dispose();
        _stranger.Dispose();
        _logs.Dispose();
    }

    [Theory]
    [InlineData(LocalEntraTenant.V2Issuer)]
    [InlineData(LocalEntraTenant.V1Issuer)]
    public async Task Token_of_the_tenant_for_our_audience_is_accepted_with_keys_from_its_metadata(string issuer)
    {
        using var response = await PostAsync(LocalEntraTenant.Token(_key1, issuer: issuer));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
        Assert.Equal(1, _tenant.MetadataRequests);
        Assert.Equal(1, _tenant.KeyRequests);
    }

    [Fact]
    public async Task Metadata_is_fetched_once_for_many_tokens()
    {
        Assert.Equal(0, _tenant.MetadataRequests);
        for (var i = 0; i < 3; i++)
        {
            using var response = await PostAsync(LocalEntraTenant.Token(_key1));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        Assert.Equal(1, _tenant.MetadataRequests);
        Assert.Equal(1, _tenant.KeyRequests);
    }

    public static TheoryData<string, string> BadTokens() => new()
    {
        { "another audience", "wrong audience" },
        { "another tenant", "wrong issuer" },
        { "expired", "expired or not yet valid" },
        { "not yet valid", "expired or not yet valid" },
        { "unsigned (alg none)", "signature not valid" },
        { "signed with another key under our key id", "signature not valid" },
        { "signed with a key the tenant never published", "signature not valid" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Bad_token_is_401_with_a_challenge_and_stores_nothing(string token, string reason)
    {
        using var response = await PostAsync(token switch
        {
            "another audience" => LocalEntraTenant.Token(_key1, audience: "api://some-other-app"),
            "another tenant" => LocalEntraTenant.Token(_key1, issuer: "https://login.microsoftonline.com/00000000-1111-2222-3333-444444444444/v2.0"),
            "expired" => LocalEntraTenant.Token(_key1, notBefore: TimeSpan.FromHours(-2), lifetime: TimeSpan.FromMinutes(90)),
            "not yet valid" => LocalEntraTenant.Token(_key1, notBefore: TimeSpan.FromMinutes(30)),
            "unsigned (alg none)" => LocalEntraTenant.Token(null),
            "signed with another key under our key id" => LocalEntraTenant.Token(_stranger, kid: "key-1"),
            _ => LocalEntraTenant.Token(_stranger, kid: "key-9"),
        });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, (await BadInputTests.ReadProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task A_key_the_tenant_rotates_in_is_accepted_once_published()
    {
        using (var warm = await PostAsync(LocalEntraTenant.Token(_key1)))
        {
            Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);
        }
        _tenant.Publish((_key1, "key-1"), (_key2, "key-2"));

        // The unknown key id makes the handler refetch the metadata; wait until a request sees the new key.
        var deadline = TimeSpan.FromSeconds(20);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var response = await PostAsync(LocalEntraTenant.Token(_key2, kid: "key-2"));
            status = response.StatusCode;
        }
        while (status != HttpStatusCode.Accepted && clock.Elapsed < deadline && await Delay());
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(2, _tenant.KeyRequests);
    }

    [Fact]
    public async Task Unreachable_tenant_metadata_is_503_with_retry_after_and_shared_secrets_still_work()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort.Next()}/{LocalEntraTenant.TenantId}/v2.0/.well-known/openid-configuration");
        await using var host = await StartHostAsync(closed, _logs);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        using var refused = await PostAsync(LocalEntraTenant.Token(_key1), client: client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("signing keys are unavailable", (await BadInputTests.ReadProblemAsync(refused)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await host.Store.ListAsync(new IncidentQuery()));

        using var shared = await PostAsync(HostHarness.Token, client: client);
        Assert.Equal(HttpStatusCode.Accepted, shared.StatusCode);
    }

    [Fact]
    public async Task Token_text_is_never_logged_accepted_or_refused()
    {
        var tokens = new[]
        {
            LocalEntraTenant.Token(_key1),
            LocalEntraTenant.Token(_key1, audience: "api://some-other-app"),
            LocalEntraTenant.Token(_stranger, kid: "key-9"),
            LocalEntraTenant.Token(null),
        };
        foreach (var token in tokens)
        {
            using var response = await PostAsync(token);
            Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        }
        var entries = _logs.Entries.ToList();
        Assert.Contains(entries, e => e.Contains("Refused POST /api/alerts/azuremonitor: 401", StringComparison.Ordinal));
        foreach (var token in tokens)
        {
            // Any of the three parts would do: the signature is enough to replay nothing, the payload names the caller.
            foreach (var part in token.Split('.').Where(p => p.Length > 0))
            {
                Assert.DoesNotContain(entries, e => e.Contains(part, StringComparison.Ordinal));
            }
        }
    }

    private async Task<HostHarness> StartHostAsync(Uri metadata, ILoggerProvider logs) =>
        await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, settings: new Dictionary<string, string?>
        {
            ["Remediation:Auth:EntraId:TenantId"] = LocalEntraTenant.TenantId,
            ["Remediation:Auth:EntraId:Audiences:0"] = LocalEntraTenant.Audience,
            ["Remediation:Auth:EntraId:MetadataAddress"] = metadata.ToString(),
            ["Logging:LogLevel:Default"] = "Trace",
        }, configureServices: services => services.AddSingleton<ILoggerProvider>(logs));

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }

    private async Task<HttpResponseMessage> PostAsync(string bearer, string? body = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/azuremonitor")
        {
            Content = new StringContent(body ?? _payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await (client ?? _client).SendAsync(request);
    }
}
