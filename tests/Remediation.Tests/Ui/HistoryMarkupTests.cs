using System.Text.Json;
using System.Text.Json.Nodes;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.WebUtilities;
using Remediation.Http;
using Remediation.Storage;
using Remediation.Text;

namespace Remediation.Tests.Ui;

/// <summary>
/// The history page's markup, rendered from its components without a host and read back with an HTML5 parser (as a
/// browser would build the DOM): hostile text in any field stays text, and each field shows exactly what was recorded.
/// </summary>
public sealed class HistoryMarkupTests
{
    /// <summary>Text that breaks out of text, attributes, comments and raw-text elements if it is not encoded, with a bell and a bidi override.</summary>
    private static string Evil(string field) =>
        $"{field}\"'><script>alert('{field}')</script><img src=x onerror=alert(1)><!--</style></pre>&amp;\u0007\u202E`";

    /// <summary>What the page shows for <paramref name="field"/>: the same text, control and bidi characters escaped.</summary>
    private static string Shown(string field) => DisplayText.Escape(Evil(field));

    private static readonly HashSet<string> Elements =
    [
        "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "form", "label", "input", "select", "option", "button", "a",
        "main", "article", "h2", "span", "small", "dl", "dt", "dd", "code", "ul", "li", "pre", "nav",
    ];

    private static readonly HashSet<string> Attributes = ["lang", "charset", "name", "content", "class", "method", "value", "type", "href", "id", "role", "selected", "rel"];

    private static IncidentRecord HostileIncident() => new()
    {
        PartitionKey = Evil("id"),
        State = IncidentState.Failed,
        Source = Evil("source"),
        AlertName = Evil("alert"),
        Namespace = Evil("ns"),
        Workload = Evil("workload"),
        Severity = Evil("severity"),
        AlertJson = new JsonObject { ["labels"] = new JsonObject { [Evil("label")] = Evil("value") } }.ToJsonString(),
        DiagnosisClass = Evil("class"),
        DiagnosisSummary = Evil("summary"),
        DiagnosisJson = new JsonObject
        {
            ["evidence"] = new JsonArray(new JsonObject { ["source"] = Evil("evidence-source"), ["text"] = Evil("evidence-text") }),
            ["unavailable"] = new JsonArray(Evil("missing")),
        }.ToJsonString(),
        Action = Evil("action"),
        PlanJson = new JsonObject
        {
            ["summary"] = Evil("plan"),
            ["mutations"] = new JsonArray(new JsonObject
            {
                ["kind"] = Evil("kind"), ["namespace"] = Evil("mns"), ["name"] = Evil("name"), ["description"] = Evil("description"),
            }),
        }.ToJsonString(),
        PriorStateJson = new JsonObject { ["image"] = Evil("image") }.ToJsonString(),
        Outcome = Evil("outcome"),
        OutcomeReason = Evil("reason"),
        StartsAt = DateTimeOffset.UnixEpoch,
        ReceivedAt = DateTimeOffset.UnixEpoch.AddSeconds(30),
        ActedAt = DateTimeOffset.UnixEpoch.AddSeconds(32.5),
        VerifyDeadline = DateTimeOffset.UnixEpoch.AddMinutes(5),
    };

    private static async Task<IDocument> RenderAsync(HistoryView view) =>
        await new HtmlParser().ParseDocumentAsync(await HistoryPage.RenderDocumentAsync(view));

    [Fact]
    public async Task Hostile_text_in_every_field_is_text_in_the_parsed_page_and_shown_exactly()
    {
        var filter = new HistoryFilter(Evil("filter-ns"), Evil("filter-workload"), null, null, Evil("since"), 100, Evil("problem"));
        var counts = new IncidentCounts(new Dictionary<string, int> { [Evil("count-state")] = 3 }, 3, Complete: false);
        var document = await RenderAsync(new HistoryView(filter, [HostileIncident()], Evil("problem"), DateTimeOffset.UnixEpoch, counts));

        // Structure: only the page's own elements and attributes, one style sheet, no comments, no handlers.
        var all = document.All.ToList();
        Assert.Empty(all.Select(e => e.LocalName).Where(n => !Elements.Contains(n)).Distinct());
        Assert.Empty(all.SelectMany(e => e.Attributes).Select(a => a.Name).Where(n => !Attributes.Contains(n)).Distinct());
        Assert.Single(document.QuerySelectorAll("style"));
        Assert.DoesNotContain(Descendants(document), n => n.NodeType == NodeType.Comment);
        Assert.DoesNotContain(document.DocumentElement.TextContent, c => c is not ('\n' or '\r') && DisplayText.IsUnsafe(c));

        var card = Assert.Single(document.QuerySelectorAll("article.incident"));
        Assert.Equal("incident-" + Shown("id"), card.Id);
        Assert.Equal(Shown("id"), Text(card, "code.incident-id"));
        Assert.Equal("Failed", Text(card, "h2 .state"));
        Assert.StartsWith($"Failed {Shown("ns")}/{Shown("workload")} {Shown("alert")}", card.QuerySelector("h2")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(Shown("alert"), Text(card, "h2 small"));
        Assert.Equal($"{Shown("source")} {Shown("alert")}, severity {Shown("severity")}, started 1970-01-01 00:00:00", Definition(card, "Alert"));
        Assert.Equal($"{Shown("label")}={Shown("value")}", Text(card, "dd.labels code.label"));
        Assert.Equal(Shown("class"), Text(card, "span.diagnosis"));
        Assert.StartsWith($"{Shown("class")}: {Shown("summary")}", Definition(card, "Diagnosis"), StringComparison.Ordinal);
        var evidence = card.QuerySelectorAll("ul.evidence li").Select(li => li.TextContent).ToList();
        Assert.Equal([$"{Shown("evidence-source")} {Shown("evidence-text")}", $"not available: {Shown("missing")}"], evidence);
        Assert.Equal(Shown("evidence-source"), Text(card, "ul.evidence .source"));
        Assert.Equal(Shown("action"), Text(card, "span.action"));
        Assert.StartsWith($"{Shown("action")}: {Shown("plan")}", Definition(card, "Action"), StringComparison.Ordinal);
        Assert.Equal($"{Shown("kind")} {Shown("mns")}/{Shown("name")}: {Shown("description")}", Text(card, "ul.mutations li"));
        // The prior state is pretty JSON whose escapes read back as the recorded value.
        Assert.Equal(Evil("image"), JsonNode.Parse(Text(card, "pre"))!["image"]!.GetValue<string>());
        Assert.Equal($"{Shown("outcome")}: {Shown("reason")}", Definition(card, "Outcome"));
        Assert.Equal("received 1970-01-01 00:00:30; acted 1970-01-01 00:00:32 (+2.5s); verifying until 1970-01-01 00:05:00", Definition(card, "Timings"));

        Assert.Equal(Shown("problem"), Text(document, "p.problem"));
        Assert.Equal(Evil("filter-ns"), document.QuerySelector("input[name=namespace]")!.GetAttribute("value"));
        Assert.Equal(Evil("filter-workload"), document.QuerySelector("input[name=workload]")!.GetAttribute("value"));
        Assert.Equal(Evil("since"), document.QuerySelector("input[name=since]")!.GetAttribute("value"));
        var count = Assert.Single(document.QuerySelectorAll("p.counts a.count"));
        Assert.Equal($"{Shown("count-state")} 3", count.TextContent);
        var query = QueryHelpers.ParseQuery(count.GetAttribute("href"));
        Assert.Equal(Evil("count-state"), query["state"].ToString());
        Assert.Equal(Evil("filter-ns"), query["namespace"].ToString());
        Assert.StartsWith("at least 3 incidents", Text(document, "p.counts"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pager_links_carry_the_filters_and_page_starts()
    {
        var second = IncidentCursor.FromTableToken("1!8!page2 1!12!row2");
        var third = IncidentCursor.FromTableToken("1!8!page3 1!12!row3");
        var filter = new HistoryFilter("shop", null, "Failed", null, null, 50, null, second, [""]);
        var document = await RenderAsync(new HistoryView(filter, [], null, DateTimeOffset.UnixEpoch, Next: third));

        Assert.Equal("No incidents match.", Text(document, "p.empty"));
        var links = document.QuerySelectorAll("nav.pager a").ToDictionary(a => a.GetAttribute("rel")!, a => QueryHelpers.ParseQuery(a.GetAttribute("href")));
        Assert.Equal(["first", "prev", "next"], links.Keys);
        Assert.All(links.Values, q => Assert.Equal(("shop", "Failed", "50"), (q["namespace"].ToString(), q["state"].ToString(), q["limit"].ToString())));
        Assert.False(links["first"].ContainsKey("continuation"));
        Assert.False(links["prev"].ContainsKey("continuation")); // the page before the second is the first
        Assert.Equal(third.Encode(), links["next"]["continuation"].ToString());
        Assert.Equal("." + second.Encode(), links["next"]["back"].ToString());
        Assert.Equal("Failed", document.QuerySelector("select[name=state] option[selected]")!.TextContent);

        var single = await RenderAsync(new HistoryView(filter with { Continuation = null, BackStack = null }, [], null, DateTimeOffset.UnixEpoch));
        Assert.Null(single.QuerySelector("nav.pager"));
    }

    [Fact]
    public async Task A_card_takes_more_content_inside_it_below_the_details()
    {
        var incident = HostileIncident();
        var view = new HistoryView(new HistoryFilter(null, null, null, null, null, 100, null), [incident], null, DateTimeOffset.UnixEpoch)
        {
            CardExtras = record => builder =>
            {
                builder.OpenElement(0, "form");
                builder.AddAttribute(1, "class", "approve");
                builder.AddContent(2, record.AlertName);
                builder.CloseElement();
            },
        };
        var html = await HistoryPage.RenderDocumentAsync(view);
        var document = await new HtmlParser().ParseDocumentAsync(html);

        var form = Assert.Single(document.QuerySelectorAll("article.incident > form.approve"));
        Assert.Equal(Evil("alert"), form.TextContent); // content given as text is encoded by the renderer too
        Assert.Equal("dl", form.PreviousElementSibling?.LocalName);
    }

    private static string Text(IParentNode scope, string selector) =>
        (scope.QuerySelector(selector) ?? throw new Xunit.Sdk.XunitException($"no {selector}")).TextContent;

    /// <summary>The text of the &lt;dd&gt; after the &lt;dt&gt; named <paramref name="term"/>.</summary>
    private static string Definition(IElement card, string term) =>
        card.QuerySelectorAll("dt").Single(dt => dt.TextContent == term).NextElementSibling!.TextContent;

    private static IEnumerable<INode> Descendants(INode node) => node.ChildNodes.SelectMany(child => Descendants(child).Prepend(child));
}
