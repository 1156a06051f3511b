using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Approvals;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using static Remediation.Tests.Approvals.ReviewSupport;

namespace Remediation.Tests.Approvals;

/// <summary>
/// Answering over HTTP on the standalone host: without credentials, as a sender (not a person), with a forged, other
/// incident's or wrong-verb token, and by a cross-site or token-less form post, the answer is refused and nothing is
/// applied; the link's confirmation page changes nothing; its form, posted with the page's anti-forgery token, approves
/// once, and its replay is refused.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ApprovalHttpTests(AzuriteFixture storage)
{
    private const string Password = "alice-password-for-test";

    [Fact]
    public async Task Only_a_listed_person_with_a_valid_token_and_form_can_answer_and_only_once()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, RollbackPolicy, new Dictionary<string, string?>
        {
            ["Remediation:Auth:BasicUsername"] = Approver,
            ["Remediation:Auth:BasicPasswords:0"] = Password,
            ["Remediation:Approvals:SigningKey"] = SigningKey,
            ["Remediation:Approvals:PublicUrl"] = "https://remediation.example.com",
        });
        var id = await host.PostAlertmanagerAsync("alertmanager/kube-pod-crashlooping.json");
        var incident = await host.WaitForStateAsync(id, TimeSpan.FromSeconds(30), IncidentState.AwaitingApproval);
        var signer = host.Services.GetRequiredService<ApprovalLinks>().Signer!;
        var approveToken = signer.Issue(id, incident.PlanDigest!, ApprovalVerb.Approve, incident.ApprovalDeadline!.Value);
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var alice = new HttpClient(handler) { BaseAddress = host.BaseAddress };
        alice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Approver}:{Password}")));

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync(anonymous, id, "approve", "{}")).StatusCode);
        var sender = await PostJsonAsync(host.Client, id, "approve", "{}");
        Assert.Equal(HttpStatusCode.Forbidden, sender.StatusCode);
        Assert.Contains("name no person", await sender.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var token in new[]
        {
            approveToken[..^4] + "AAAA",
            signer.Issue("other-incident", incident.PlanDigest!, ApprovalVerb.Approve, incident.ApprovalDeadline!.Value),
            signer.Issue(id, incident.PlanDigest!, ApprovalVerb.Reject, incident.ApprovalDeadline!.Value),
        })
        {
            var refused = await PostJsonAsync(alice, id, "approve", $$"""{"token":"{{token}}"}""");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("\"field\":\"token\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync(alice, id, "approve", """{"comment": 5}""")).StatusCode);

        // The link's confirmation page: GET changes nothing.
        var page = await alice.GetAsync($"ui/approvals/{id}?verb=approve&token={Uri.EscapeDataString(approveToken)}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        var antiforgery = Antiforgery().Match(html).Groups[1].Value;
        Assert.NotEmpty(antiforgery);
        var cookie = page.Headers.GetValues("Set-Cookie").First().Split(';')[0];

        // Cross-site, and without the anti-forgery token: refused.
        using var crossSite = Form($"ui/remediations/{id}/approve", cookie, ("__RequestVerificationToken", antiforgery), ("token", approveToken));
        crossSite.Headers.Add("Origin", "https://evil.example");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.SendAsync(crossSite)).StatusCode);
        using var noToken = Form($"ui/remediations/{id}/approve", cookie, ("token", approveToken));
        Assert.Equal(HttpStatusCode.BadRequest, (await alice.SendAsync(noToken)).StatusCode);
        Assert.Equal(IncidentState.AwaitingApproval, (await host.Store.GetAsync(id))!.State);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);

        // The form as the page rendered it: approved once; the same post again is refused.
        using var post = Form($"ui/remediations/{id}/approve", cookie, ("__RequestVerificationToken", antiforgery), ("token", approveToken), ("comment", "from Teams"));
        Assert.Equal(HttpStatusCode.Redirect, (await alice.SendAsync(post)).StatusCode);
        using var replay = Form($"ui/remediations/{id}/approve", cookie, ("__RequestVerificationToken", antiforgery), ("token", approveToken));
        Assert.Equal(HttpStatusCode.Conflict, (await alice.SendAsync(replay)).StatusCode);

        var done = await host.WaitForStateAsync(id, TimeSpan.FromSeconds(30), IncidentState.Verifying, IncidentState.Succeeded, IncidentState.Failed);
        Assert.Equal((Approver, "from Teams"), (done.AnsweredBy, done.AnswerComment));
        Assert.NotNull(done.AnswerTokenNonce);
        AssertAppliedExactly(PlanOf(incident), cluster.Requests);
    }

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string id, string verb, string json) =>
        client.PostAsync($"api/remediations/{id}/{verb}", new StringContent(json, Encoding.UTF8, "application/json"));

    private static HttpRequestMessage Form(string path, string cookie, params (string Name, string Value)[] fields)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))) };
        request.Headers.Add("Cookie", cookie);
        return request;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();
}
