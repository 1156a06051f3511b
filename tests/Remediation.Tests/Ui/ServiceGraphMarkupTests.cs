using System.Text.Json;
using System.Text.Json.Nodes;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.WebUtilities;
using Remediation.Http;
using Remediation.ServiceGraph;
using Remediation.Storage;
using Remediation.Text;

namespace Remediation.Tests.Ui;

/// <summary>
/// The service graph in an incident card, rendered from the components and read back with an HTML5 parser: an SVG with
/// the culprit and the victims marked by shape and text, tooltips, group links; hostile workload names stay text.
/// </summary>
public sealed class ServiceGraphMarkupTests
{
    private static string Evil(string field) => $"{field}\"'><script>alert('{field}')</script><img src=x onerror=alert(1)>&amp;\u0007\u202E";

    private static readonly HashSet<string> SvgElements = ["svg", "title", "g", "line", "polygon", "text", "rect"];

    private static readonly HashSet<string> SvgAttributes =
        ["xmlns", "class", "role", "viewbox", "width", "height", "aria-label", "x1", "y1", "x2", "y2", "stroke-width", "points", "x", "y", "text-anchor", "rx", "fill", "stroke-dasharray"];

    private static readonly WorkloadId Front = new(Evil("ns"), Evil("frontend"));
    private static readonly WorkloadId Checkout = new(Evil("ns"), Evil("checkout"));
    private static readonly WorkloadId Payments = new(Evil("ns"), Evil("payments"));

    /// <summary>The cascade (payments failing half its requests under checkout under frontend), blamed as the diagnosis does.</summary>
    internal static ServiceGraphFinding CascadeFinding(WorkloadId frontend, WorkloadId checkout, WorkloadId payments, WorkloadId alerted)
    {
        EdgeStats Stats(double rps, double server, double p99) => new(rps, server, 0, 0, p99, null);
        var graph = new MeshGraph(alerted, TimeSpan.FromMinutes(5),
        [
            new GraphEdge(WorkloadId.Unknown, frontend, Stats(40, 0.253, 500), "destination"),
            new GraphEdge(frontend, checkout, Stats(20, 0.501, 430), "source"),
            new GraphEdge(checkout, payments, Stats(20, 0.5, 250), "source"),
        ]);
        return ServiceGraphFinding.From(graph, BlameAnalyzer.Analyze(GraphReading.Of(graph), alerted, Symptom.Errors));
    }

    /// <summary>A diagnosis as the pipeline records it, with the finding in its <c>graph</c> property.</summary>
    internal static string DiagnosisJson(ServiceGraphFinding finding) => new JsonObject
    {
        ["class"] = "Unknown",
        ["summary"] = "victim of a failing callee",
        ["evidence"] = new JsonArray(),
        ["graph"] = JsonSerializer.SerializeToNode(finding, WebJsonContext.Default.ServiceGraphFinding),
    }.ToJsonString();

    private static async Task<IDocument> RenderAsync(params IncidentRecord[] incidents) =>
        await new HtmlParser().ParseDocumentAsync(await HistoryPage.RenderDocumentAsync(
            new HistoryView(new HistoryFilter(null, null, null, null, null, 100, null), incidents, null, DateTimeOffset.UnixEpoch)));

    private static IncidentRecord Incident(string id, WorkloadId workload, IncidentState state, ServiceGraphFinding finding) => new()
    {
        PartitionKey = id,
        State = state,
        Source = "Alertmanager",
        AlertName = "IstioHigh5xxErrorRate",
        Namespace = workload.Namespace,
        Workload = workload.Name,
        DiagnosisClass = "Unknown",
        DiagnosisSummary = "see the service graph",
        DiagnosisJson = DiagnosisJson(finding),
    };

    [Fact]
    public async Task A_victim_card_draws_the_subgraph_with_marks_and_tooltips_and_hostile_names_stay_text()
    {
        var finding = CascadeFinding(Front, Checkout, Payments, Front);
        var document = await RenderAsync(Incident("victim-1", Front, IncidentState.Victim, finding));

        var svg = Assert.Single(document.QuerySelectorAll("article.incident svg.service-graph"));
        Assert.Empty(document.QuerySelectorAll("script, img, foreignObject, a[href^='javascript']"));
        var svgParts = svg.QuerySelectorAll("*").Prepend(svg).ToList();
        Assert.Empty(svgParts.Select(e => e.LocalName).Where(n => !SvgElements.Contains(n)).Distinct());
        Assert.Empty(svgParts.SelectMany(e => e.Attributes).Select(a => a.Name.ToLowerInvariant()).Where(n => !SvgAttributes.Contains(n)).Distinct());
        Assert.DoesNotContain(document.All.SelectMany(e => e.Attributes), a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(svg.TextContent, DisplayText.IsUnsafe);

        var nodes = svg.QuerySelectorAll("g.node").ToDictionary(g => g.QuerySelector("title")!.TextContent.Split(": ")[0]);
        var payments = nodes[DisplayText.Escape(Payments.ToString())];
        Assert.Contains("mark-culprit", payments.ClassList);
        Assert.Contains("health-failure", payments.ClassList);
        Assert.NotNull(payments.QuerySelector("rect.ring"));
        Assert.Equal("3.5", payments.QuerySelector("rect.box")!.GetAttribute("stroke-width"));
        Assert.Equal("failure · CULPRIT", payments.QuerySelector("text.node-status")!.TextContent);
        Assert.StartsWith(DisplayText.Escape(Payments.ToString())[..20], payments.QuerySelector("text.node-name")!.TextContent, StringComparison.Ordinal);
        foreach (var victim in new[] { Front, Checkout })
        {
            var node = nodes[DisplayText.Escape(victim.ToString())];
            Assert.Contains("mark-victim", node.ClassList);
            Assert.Equal("7 4", node.QuerySelector("rect.box")!.GetAttribute("stroke-dasharray"));
            Assert.Null(node.QuerySelector("rect.ring"));
            Assert.Equal("failure · VICTIM", node.QuerySelector("text.node-status")!.TextContent);
        }

        var edge = svg.QuerySelectorAll("g.edge").Single(g => g.QuerySelector("title")!.TextContent.StartsWith(DisplayText.Escape($"{Checkout} -> {Payments}: "), StringComparison.Ordinal));
        Assert.Contains("health-failure", edge.ClassList);
        Assert.EndsWith(": 20 req/s, 5xx 50 %, 4xx 0 %, p99 250 ms; failure", edge.QuerySelector("title")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(["20 req/s, errors 50 %", "failure"], edge.QuerySelectorAll("text").Select(t => t.TextContent));

        // The lead link: the culprit's incidents through the page's own filters, the hostile name in the query intact.
        var lead = Assert.Single(document.QuerySelectorAll("p.group a.group-lead"));
        Assert.Equal(DisplayText.Escape(Payments.ToString()), lead.TextContent);
        var href = lead.GetAttribute("href")!;
        Assert.StartsWith("?", href, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(href);
        Assert.Equal((Payments.Namespace, Payments.Name), (query["namespace"].ToString(), query["workload"].ToString()));
        Assert.Empty(document.QuerySelectorAll("p.group a.group-member"));
    }

    [Fact]
    public async Task The_culprits_card_links_each_victim_and_a_diagnosis_without_a_graph_draws_nothing()
    {
        var lead = CascadeFinding(Front, Checkout, Payments, Payments) with { Verdict = BlameVerdict.OwnFault, Victims = [Checkout, Front] };
        var document = await RenderAsync(Incident("lead-1", Payments, IncidentState.Succeeded, lead), new IncidentRecord
        {
            PartitionKey = "plain-1", Namespace = "shop", Workload = "checkout", DiagnosisClass = "BadRollout", DiagnosisJson = "{\"evidence\":[]}",
        });

        var cards = document.QuerySelectorAll("article.incident").ToDictionary(a => a.Id!);
        var members = cards["incident-lead-1"].QuerySelectorAll("p.group a.group-member").Select(a => QueryHelpers.ParseQuery(a.GetAttribute("href"))["workload"].ToString());
        Assert.Equal([Checkout.Name, Front.Name], members);
        Assert.Empty(cards["incident-lead-1"].QuerySelectorAll("a.group-lead"));
        Assert.Null(cards["incident-plain-1"].QuerySelector("svg"));
        Assert.DoesNotContain(cards["incident-plain-1"].QuerySelectorAll("dt"), dt => dt.TextContent == "Service graph");
    }

    [Fact]
    public async Task An_unreadable_recorded_graph_is_said_so_in_the_card()
    {
        var incident = new IncidentRecord { PartitionKey = "broken-1", DiagnosisClass = "Unknown", DiagnosisJson = "{\"graph\":{\"verdict\":\"Sideways\"}}" };
        var document = await RenderAsync(incident);

        var term = document.QuerySelectorAll("dt").Single(dt => dt.TextContent == "Service graph");
        Assert.StartsWith("the recorded service graph could not be read", term.NextElementSibling!.TextContent, StringComparison.Ordinal);
        Assert.Null(document.QuerySelector("svg"));
    }
}
