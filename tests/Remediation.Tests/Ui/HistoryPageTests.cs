using System.Net;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Ui;

/// <summary>The history page (GET / and /ui) of the standalone host, rendered by headless Chromium after a real rollback.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HistoryPageTests(AzuriteFixture storage)
{
    private static async Task<(SimulatedCluster Cluster, HostHarness Host, string IncidentId)> RemediateBadRolloutAsync(string connectionString, bool anonymousUi)
    {
        var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        var host = await HostHarness.StartAsync(connectionString, cluster.BaseAddress,
            settings: new Dictionary<string, string?> { ["Remediation:Ui:AllowAnonymous"] = anonymousUi ? "true" : "false" });
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));
        using var response = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var incidentId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents")[0].GetString()!;
        await host.WaitForStateAsync(incidentId, TimeSpan.FromSeconds(30), IncidentState.Verifying, IncidentState.Succeeded);
        return (cluster, host, incidentId);
    }

    [Fact]
    public async Task Headless_chromium_renders_the_recorded_rollback_with_diagnosis_evidence_prior_state_and_outcome()
    {
        Assert.True(HeadlessChromium.FindBinary() is not null, "chromium is not installed: run scripts/install-deps.sh");
        var (cluster, host, incidentId) = await RemediateBadRolloutAsync(storage.ConnectionString, anonymousUi: true);
        await using var _ = cluster;
        await using var __ = host;

        var dom = await HeadlessChromium.DumpDomAsync(host.BaseAddress);
        Assert.Contains("<title>Remediation history</title>", dom, StringComparison.Ordinal);
        Assert.Contains($"id=\"incident-{incidentId}\"", dom, StringComparison.Ordinal);
        Assert.Contains($"<code class=\"incident-id\">{incidentId}</code>", dom, StringComparison.Ordinal);
        Assert.Contains("<span class=\"action\">rollback</span>", dom, StringComparison.Ordinal);
        Assert.Contains("<span class=\"diagnosis\">BadRollout</span>", dom, StringComparison.Ordinal);
        Assert.Matches("<span class=\"outcome\">(Verifying|Succeeded)</span>", dom);
        Assert.Contains("<ul class=\"evidence\"><li>", dom, StringComparison.Ordinal);
        Assert.Contains("registry.example/checkout:1.5.0", dom, StringComparison.Ordinal); // prior state
        Assert.Contains("shop/checkout", dom, StringComparison.Ordinal);
        Assert.Contains("received ", dom, StringComparison.Ordinal);

        // Filters from the query string, on the /ui alias too.
        var filtered = await HeadlessChromium.DumpDomAsync(new Uri(host.BaseAddress, "ui?namespace=payments"));
        Assert.DoesNotContain(incidentId, filtered, StringComparison.Ordinal);
        Assert.Contains("No incidents match.", filtered, StringComparison.Ordinal);
        var byState = await HeadlessChromium.DumpDomAsync(new Uri(host.BaseAddress, "ui?namespace=shop&workload=checkout&since=2000-01-01T00:00:00Z"));
        Assert.Contains(incidentId, byState, StringComparison.Ordinal);

        var png = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.png");
        try
        {
            await HeadlessChromium.ScreenshotAsync(host.BaseAddress, png);
            var bytes = await File.ReadAllBytesAsync(png);
            Assert.True(bytes.Length > 10_000, $"screenshot is only {bytes.Length} bytes");
            Assert.Equal((1280, 900), HeadlessChromium.PngSize(bytes));
            Assert.True(HeadlessChromium.DistinctColours(bytes) >= 8, "screenshot is (nearly) a single colour");
        }
        finally
        {
            File.Delete(png);
        }
    }

    [Fact]
    public async Task History_page_takes_the_api_credentials_unless_anonymous_reads_are_enabled()
    {
        var (cluster, host, incidentId) = await RemediateBadRolloutAsync(storage.ConnectionString, anonymousUi: false);
        await using var _ = cluster;
        await using var __ = host;
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };

        foreach (var path in new[] { "", "ui" })
        {
            using var refused = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("Basic", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(incidentId, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var page = await host.Client.GetAsync("ui?state=");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains(incidentId, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var badFilter = await host.Client.GetAsync("?since=yesterday-ish&limit=5");
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        var problem = (await new HtmlParser().ParseDocumentAsync(await badFilter.Content.ReadAsStringAsync())).QuerySelector("p.problem")?.TextContent;
        Assert.Equal("'since' must be an RFC 3339 time such as 2026-11-26T03:00:00Z (or a date, 2026-11-26), not 'yesterday-ish'", problem);
    }
}
