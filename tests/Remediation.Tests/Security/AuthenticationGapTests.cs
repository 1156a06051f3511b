using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Skeleton;
using Xunit.Abstractions;

namespace Remediation.Tests.Security;

/// <summary>
/// What AzureSources/WebhookAuthTests and Skeleton/BadInputTests do not cover: every endpoint refuses anonymous and
/// wrong-key callers, Basic auth refusals, unsupported schemes, and replays of a signature that vary its form or route.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuthenticationGapTests(AzuriteFixture storage, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Bearer = "sec-bearer-4a1f9e";
    private const string User = "alertmanager";
    private const string Password = "sec-basic-8c2d71";
    private const string Hmac = "sec-hmac-0b7e53";

    private HostHarness _host = null!;
    private HttpClient _anonymous = null!;
    private string _payload = null!;

    public async Task InitializeAsync()
    {
        _host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, settings: new Dictionary<string, string?>
        {
            ["Remediation:Auth:BearerTokens:0"] = Bearer,
            ["Remediation:Auth:BasicUsername"] = User,
            ["Remediation:Auth:BasicPasswords:0"] = Password,
            ["Remediation:Auth:HmacSecrets:0"] = Hmac,
        });
        _anonymous = new HttpClient { BaseAddress = _host.BaseAddress };
        _payload = await File.ReadAllTextAsync(RepoPaths.Payload("azuremonitor/metric-alert-fired.json"));
    }

    public async Task DisposeAsync()
    {
        _anonymous.Dispose();
        await _host.DisposeAsync();
    }

    public static TheoryData<string, string?> Refusals() => new()
    {
        // route × credential (null: none)
        { "api/alerts/alertmanager", null },
        { "api/alerts/azuremonitor", null },
        { "api/alerts/eventgrid", null },
        { "api/remediations", null },
        { "api/alerts/alertmanager", "Bearer wrong-key" },
        { "api/alerts/eventgrid", "Bearer " + Password },
        { "api/remediations", "Bearer " + HostHarness.Token },
        { "api/alerts/azuremonitor", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:wrong")) },
        { "api/alerts/azuremonitor", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"someone:{Password}")) },
        { "api/alerts/azuremonitor", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Password)) },
        { "api/alerts/azuremonitor", "Basic %%%not-base64" },
        { "api/alerts/azuremonitor", "Token " + Bearer },
        { "api/alerts/azuremonitor", Bearer },
        { "api/alerts/azuremonitor", "Bearer" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Anonymous_and_wrong_key_requests_are_401_on_every_endpoint_and_store_nothing(string route, string? authorization)
    {
        using var request = new HttpRequestMessage(route == "api/remediations" ? HttpMethod.Get : HttpMethod.Post, route);
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new StringContent(_payload, Encoding.UTF8, "application/json");
        }
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        using var response = await _anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
        var detail = (await BadInputTests.ReadProblemAsync(response)).GetProperty("detail").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(detail));
        foreach (var secret in new[] { Bearer, Password, Hmac })
        {
            Assert.DoesNotContain(secret, detail, StringComparison.Ordinal);
        }
        Assert.Empty(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task Correct_basic_credentials_are_accepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/azuremonitor") { Content = new StringContent(_payload, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        using var response = await _anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task A_signature_replayed_in_another_form_or_to_another_route_is_401()
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Hmac), Encoding.UTF8.GetBytes(ts + "." + _payload)));
        using (var first = await SendSignedAsync("api/alerts/azuremonitor", ts, "sha256=" + signature))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }
        var replays = new (string Route, string Timestamp, string Signature)[]
        {
            ("api/alerts/azuremonitor", ts, "sha256=" + signature.ToUpperInvariant()),
            ("api/alerts/azuremonitor", ts, "SHA256=" + signature),
            ("api/alerts/azuremonitor", " " + ts, " sha256=" + signature + " "),
            ("api/alerts/eventgrid", ts, "sha256=" + signature),
            ("api/alerts/alertmanager", ts, "sha256=" + signature),
            // The same signature under another timestamp does not verify at all.
            ("api/alerts/azuremonitor", (long.Parse(ts, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture), "sha256=" + signature),
        };
        foreach (var (route, timestamp, sig) in replays)
        {
            using var replay = await SendSignedAsync(route, timestamp, sig);
            Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
            var detail = (await BadInputTests.ReadProblemAsync(replay)).GetProperty("detail").GetString()!;
            Assert.True(detail.Contains("replayed", StringComparison.Ordinal) || detail.Contains("not accepted", StringComparison.Ordinal), detail);
        }
        output.WriteLine($"signature replays refused: {replays.Length} of {replays.Length}");
        Console.WriteLine($"SECURITY: signature replays refused: {replays.Length} of {replays.Length} (case, prefix, whitespace, other routes, shifted timestamp)");
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
    }

    private async Task<HttpResponseMessage> SendSignedAsync(string route, string timestamp, string signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new StringContent(_payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("X-Remediation-Timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("X-Remediation-Signature", signature);
        return await _anonymous.SendAsync(request);
    }
}
