using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Remediation.Approvals;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Security;
using static Remediation.Tests.Approvals.ReviewSupport;

namespace Remediation.Tests.Approvals;

/// <summary>
/// Refusals on the standalone host: a signed token past its expiry, and identities that are not on the approvers list
/// (a Basic user other than the listed one, the service-level bearer token). Each is refused with problem+json naming
/// the field, applies nothing, and leaves one warning naming the incident and the reason, without the token's text.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ApprovalRefusalTests(AzuriteFixture storage)
{
    private const string Password = "refusal-password-for-test";
    private const string Outsider = "bob@example.com";

    [Fact]
    public async Task An_expired_signed_token_is_refused_logged_without_its_text_and_applies_nothing()
    {
        var sink = new RecordingLoggerProvider();
        await using var cluster = await SimulatedCluster.StartAsync();
        await using var host = await StartAsync(cluster, Approver, sink);
        var incident = await AwaitingAsync(host);

        // Issued by the same key on a clock two hours back, expiring an hour before the host's now.
        var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var past = new FakeTimeProvider(now - TimeSpan.FromHours(2));
        var signer = new ApprovalTokenSigner(new ApprovalTokenOptions { Current = ApprovalSigningKey.FromSecret("k1", SigningKey) }, past);
        var expired = signer.Issue(incident.IncidentId, incident.PlanDigest!, ApprovalVerb.Approve, past.GetUtcNow() + TimeSpan.FromHours(1));
        Assert.Equal(ApprovalTokenFailure.Expired, host.Services.GetRequiredService<ApprovalLinks>().Signer!
            .Verify(expired, incident.IncidentId, incident.PlanDigest!, ApprovalVerb.Approve).Failure);
        past.Advance(TimeSpan.FromMinutes(30));
        Assert.True(signer.Verify(expired, incident.IncidentId, incident.PlanDigest!, ApprovalVerb.Approve).IsValid);

        using var alice = Basic(host, Approver);
        var body = await RefusedAsync(alice, incident.IncidentId, "approve", $$"""{"token":"{{expired}}","comment":"late"}""", "token");
        Assert.Contains("expired", body, StringComparison.Ordinal);

        await AssertNothingAppliedAsync(host, cluster, incident.IncidentId);
        var line = Assert.Single(Refusals(sink, incident.IncidentId));
        Assert.Contains($"by {Approver}", line, StringComparison.Ordinal);
        Assert.Contains("Expired", line, StringComparison.Ordinal);
        AssertNoTokenText(sink, expired);
    }

    [Fact]
    public async Task Identities_not_on_the_approvers_list_are_refused_logged_and_apply_nothing()
    {
        var sink = new RecordingLoggerProvider();
        await using var cluster = await SimulatedCluster.StartAsync();
        await using var host = await StartAsync(cluster, Outsider, sink);
        var incident = await AwaitingAsync(host);
        var signer = host.Services.GetRequiredService<ApprovalLinks>().Signer!;
        var token = signer.Issue(incident.IncidentId, incident.PlanDigest!, ApprovalVerb.Approve, incident.ApprovalDeadline!.Value);

        // A person the host authenticates, but whom the policy does not list (alice and group:sre only).
        using var bob = Basic(host, Outsider);
        foreach (var (verb, json) in new[] { ("approve", "{}"), ("reject", """{"comment":"no"}"""), ("approve", $$"""{"token":"{{token}}"}""") })
        {
            var body = await RefusedAsync(bob, incident.IncidentId, verb, json, "Authorization");
            Assert.Contains($"'{Outsider}' is not an approver of incident {incident.IncidentId}", body, StringComparison.Ordinal);
        }
        // The service-level credential (the shared bearer token Alertmanager sends) names no person.
        var sender = await RefusedAsync(host.Client, incident.IncidentId, "approve", $$"""{"token":"{{token}}"}""", "Authorization");
        Assert.Contains("name no person", sender, StringComparison.Ordinal);

        await AssertNothingAppliedAsync(host, cluster, incident.IncidentId);
        var lines = Refusals(sink, incident.IncidentId);
        Assert.Equal(4, lines.Count);
        Assert.Equal(3, lines.Count(l => l.Contains($"by {Outsider}", StringComparison.Ordinal) && l.Contains("not an approver", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.Contains("by (none)", StringComparison.Ordinal) && l.Contains("name no person", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("reject by", StringComparison.Ordinal));
        AssertNoTokenText(sink, token);
    }

    [Fact]
    public async Task A_signed_sender_that_also_names_a_person_in_its_headers_is_refused_and_applies_nothing()
    {
        // The HMAC secret authenticates a sender. A request signed with it named the approver it liked in an Authorization
        // header nobody checked (Basic with any password, an unsigned token), and was answered as that person.
        const string hmac = "hmac-sender-secret-for-test";
        var sink = new RecordingLoggerProvider();
        await using var cluster = await SimulatedCluster.StartAsync();
        await using var host = await StartAsync(cluster, Approver, sink, hmac);
        var incident = await AwaitingAsync(host);
        var unsignedToken = Base64Url("""{"alg":"none","typ":"JWT"}""") + "." + Base64Url("""{"preferred_username":"alice","groups":["sre"]}""") + ".";
        var claimed = new[]
        {
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Approver}:not-the-password"))),
            new AuthenticationHeaderValue("Bearer", unsignedToken),
        };
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (authorization, verb) in claimed.SelectMany(a => new[] { (a, "approve"), (a, "reject") }))
        {
            var body = $$"""{"comment":"{{verb}} as {{authorization.Scheme}}"}""";
            var signature = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(hmac), Encoding.UTF8.GetBytes(now + "." + body)));
            using var request = new HttpRequestMessage(HttpMethod.Post, $"api/remediations/{incident.IncidentId}/{verb}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = authorization;
            request.Headers.TryAddWithoutValidation("X-Remediation-Timestamp", now);
            request.Headers.TryAddWithoutValidation("X-Remediation-Signature", signature);
            using var response = await anonymous.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{verb} signed, claiming {authorization.Scheme}: {(int)response.StatusCode} {text}");
            Assert.Contains("name no person", text, StringComparison.Ordinal);
        }
        await AssertNothingAppliedAsync(host, cluster, incident.IncidentId);
    }

    private static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task<HostHarness> StartAsync(SimulatedCluster cluster, string basicUser, RecordingLoggerProvider sink, string? hmacSecret = null)
    {
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Remediation:Auth:BasicUsername"] = basicUser,
            ["Remediation:Auth:BasicPasswords:0"] = Password,
            ["Remediation:Approvals:SigningKey"] = SigningKey,
            ["Remediation:Approvals:PublicUrl"] = "https://remediation.example.com",
        };
        if (hmacSecret is not null)
        {
            settings["Remediation:Auth:HmacSecrets:0"] = hmacSecret;
        }
        return await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, RollbackPolicy, settings,
            configureServices: services => services.AddSingleton<ILoggerProvider>(sink));
    }

    private static async Task<IncidentRecord> AwaitingAsync(HostHarness host)
    {
        var id = await host.PostAlertmanagerAsync("alertmanager/kube-pod-crashlooping.json");
        return await host.WaitForStateAsync(id, TimeSpan.FromSeconds(30), IncidentState.AwaitingApproval);
    }

    private static HttpClient Basic(HostHarness host, string user)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{Password}")));
        return client;
    }

    /// <summary>Posts an answer; asserts 403 problem+json naming <paramref name="field"/>; returns its detail.</summary>
    private static async Task<string> RefusedAsync(HttpClient client, string id, string verb, string json, string field)
    {
        using var response = await client.PostAsync($"api/remediations/{id}/{verb}", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{verb}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }

    /// <summary>The incident still awaits its approval, unanswered, and the cluster saw no write.</summary>
    private static async Task AssertNothingAppliedAsync(HostHarness host, SimulatedCluster cluster, string id)
    {
        var now = (await host.Store.GetAsync(id))!;
        Assert.Equal(IncidentState.AwaitingApproval, now.State);
        Assert.Null(now.AnswerVerb);
        Assert.Null(now.AnsweredBy);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
    }

    private static List<string> Refusals(RecordingLoggerProvider sink, string id) =>
        [.. sink.Entries.Where(e => e.Contains("Approval refused, nothing changed: incident " + id, StringComparison.Ordinal))];

    /// <summary>No log entry carries the token, nor its signature part alone.</summary>
    private static void AssertNoTokenText(RecordingLoggerProvider sink, string token)
    {
        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(sink.Entries, e => e.Contains(token, StringComparison.Ordinal) || e.Contains(signature, StringComparison.Ordinal));
    }
}
