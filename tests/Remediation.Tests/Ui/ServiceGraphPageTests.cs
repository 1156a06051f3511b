using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Remediation.ServiceGraph;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Ui;

/// <summary>
/// The history page of the standalone host in headless Chromium, with a recorded cascade group seeded into Azurite through
/// the store: the service graph is drawn, the culprit marked, the victims' links lead to the culprit's incident, and the
/// page's Content-Security-Policy reports no violation.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServiceGraphPageTests(AzuriteFixture storage)
{
    private static readonly WorkloadId Frontend = new("shop", "frontend");
    private static readonly WorkloadId Checkout = new("shop", "checkout");
    private static readonly WorkloadId Payments = new("shop", "payments");

    private static IncidentRecord Record(string id, WorkloadId workload, IncidentState state, int second, ServiceGraphFinding finding) => new()
    {
        PartitionKey = id,
        State = state,
        Source = "Alertmanager",
        AlertName = "IstioHigh5xxErrorRate",
        Fingerprint = id,
        Namespace = workload.Namespace,
        Workload = workload.Name,
        StartsAt = new DateTimeOffset(2026, 11, 26, 3, 12, 0, TimeSpan.Zero),
        ReceivedAt = new DateTimeOffset(2026, 11, 26, 3, 12, second, TimeSpan.Zero),
        DiagnosisClass = workload == Payments ? "BadRollout" : "Unknown",
        DiagnosisSummary = workload == Payments ? "payments 1.4.0 fails half its requests" : $"victim of {Payments}",
        DiagnosisJson = ServiceGraphMarkupTests.DiagnosisJson(finding),
        Action = workload == Payments ? "rollback" : null,
        Outcome = (workload == Payments ? IncidentState.Succeeded : IncidentState.Victim).ToString(),
    };

    private static IElement Card(IDocument document, string id) =>
        document.GetElementById("incident-" + id) ?? throw new Xunit.Sdk.XunitException($"no card for incident {id} in {document.Body?.TextContent}");

    [Fact]
    public async Task Chromium_shows_the_cascade_graph_marks_the_culprit_and_victim_links_reach_the_lead_without_csp_violations()
    {
        Assert.True(HeadlessChromium.FindBinary() is not null, "chromium is not installed: run scripts/install-deps.sh");
        // The detector can fail: a page that breaks its own policy is reported on the console.
        var control = Path.Combine(Path.GetTempPath(), $"csp-control-{Guid.NewGuid():N}.html");
        await File.WriteAllTextAsync(control, "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"><script>document.title='x'</script>");
        try
        {
            var (_, controlConsole) = await HeadlessChromium.DumpDomWithConsoleAsync(new Uri(control));
            Assert.Contains(controlConsole, line => line.Contains("Content Security Policy", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(control);
        }

        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false,
            settings: new Dictionary<string, string?> { ["Remediation:Ui:AllowAnonymous"] = "true" });
        var (lead, frontendId, checkoutId) = ("lead" + Guid.NewGuid().ToString("N")[..12], "victim-fe" + Guid.NewGuid().ToString("N")[..8], "victim-co" + Guid.NewGuid().ToString("N")[..8]);
        Assert.True(await host.Store.TryClaimAsync(Record(lead, Payments, IncidentState.Succeeded, 1, ServiceGraphMarkupTests.CascadeFinding(Frontend, Checkout, Payments, Payments))));
        Assert.True(await host.Store.TryClaimAsync(Record(frontendId, Frontend, IncidentState.Victim, 2, ServiceGraphMarkupTests.CascadeFinding(Frontend, Checkout, Payments, Frontend))));
        Assert.True(await host.Store.TryClaimAsync(Record(checkoutId, Checkout, IncidentState.Victim, 3, ServiceGraphMarkupTests.CascadeFinding(Frontend, Checkout, Payments, Checkout))));

        var page = new Uri(host.BaseAddress, "?namespace=shop");
        var (dom, console) = await HeadlessChromium.DumpDomWithConsoleAsync(page);
        Assert.DoesNotContain(console, line => line.Contains("Content Security Policy", StringComparison.Ordinal) || line.Contains("Refused", StringComparison.Ordinal));
        var document = await new HtmlParser().ParseDocumentAsync(dom);
        Assert.Empty(document.QuerySelectorAll("script"));

        foreach (var id in new[] { lead, frontendId, checkoutId })
        {
            var svg = Card(document, id).QuerySelector("svg.service-graph") ?? throw new Xunit.Sdk.XunitException($"no service graph in the card of {id}");
            var culprit = Assert.Single(svg.QuerySelectorAll("g.node.mark-culprit"));
            Assert.StartsWith("shop/payments: failure", culprit.QuerySelector("title")!.TextContent, StringComparison.Ordinal);
            Assert.Equal("failure · CULPRIT", culprit.QuerySelector("text.node-status")!.TextContent);
            Assert.NotNull(culprit.QuerySelector("rect.ring"));
            Assert.Equal(["shop/checkout", "shop/frontend"], svg.QuerySelectorAll("g.node.mark-victim text.node-name").Select(t => t.TextContent).Order(StringComparer.Ordinal));
        }

        Assert.Equal(["shop/checkout", "shop/frontend"], Card(document, lead).QuerySelectorAll("a.group-member").Select(a => a.TextContent));
        foreach (var victim in new[] { frontendId, checkoutId })
        {
            var link = Assert.Single(Card(document, victim).QuerySelectorAll("a.group-lead"));
            var target = new Uri(page, link.GetAttribute("href"));
            var leadPage = await new HtmlParser().ParseDocumentAsync(await HeadlessChromium.DumpDomAsync(target));
            Assert.Equal([lead], leadPage.QuerySelectorAll("article.incident").Select(a => a.Id!["incident-".Length..]));
            Assert.Equal("rollback", leadPage.QuerySelector("span.action")?.TextContent);
        }

        // And back: the lead's member links reach each victim's incident.
        var member = Card(document, lead).QuerySelectorAll("a.group-member").Single(a => a.TextContent == "shop/frontend");
        var memberPage = await new HtmlParser().ParseDocumentAsync(await HeadlessChromium.DumpDomAsync(new Uri(page, member.GetAttribute("href"))));
        Assert.Equal([frontendId], memberPage.QuerySelectorAll("article.incident").Select(a => a.Id!["incident-".Length..]));
    }
}
