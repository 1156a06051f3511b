using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Remediation.Storage;
using Remediation.Text;

namespace Remediation.Http;

/// <summary>
/// GET / (and /ui): the read-only remediation history, server-rendered HTML, one page at a time: diagnosis with its
/// evidence, action with its plan and prior state, outcome and timings. Filters come from the query string (namespace,
/// workload, state, since, limit = the page size), as for GET /api/remediations, and so does the position:
/// <c>continuation</c> (where this page starts) and <c>back</c> (the starts of the pages before it, for "previous").
/// Pages follow incident id order, newest first within a page (<see cref="IncidentStore.ListPageAsync"/>). Above the
/// page, the number of incidents per state for the filters (without the state filter): a scan that reads only the State
/// column, of at most <see cref="IncidentStore.DefaultMaxCounted"/> rows.
/// Everything shown is HTML-encoded, control and bidi characters escaped (<see cref="DisplayText"/>); there are no
/// scripts and no external assets, and the Content-Security-Policy forbids both.
/// </summary>
public sealed class HistoryPage(IncidentStore store, TimeProvider timeProvider)
{
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public async Task<IResult> RenderAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var filter = HistoryFilter.FromQuery(request.Query);
        request.HttpContext.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        request.HttpContext.Response.Headers.XContentTypeOptions = "nosniff";
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        if (filter.Problem is { } problem)
        {
            return Page(filter, [], problem, StatusCodes.Status400BadRequest);
        }
        try
        {
            var pageTask = store.ListPageAsync(new IncidentQuery(filter.Namespace, filter.Workload, filter.State, filter.Since), filter.Limit, filter.Continuation, cancellationToken);
            var countsTask = store.CountByStateAsync(new IncidentQuery(filter.Namespace, filter.Workload, null, filter.Since), cancellationToken: cancellationToken);
            var page = await pageTask.ConfigureAwait(false);
            var counts = await countsTask.ConfigureAwait(false);
            return Results.Content(Render(filter, page.Incidents, null, timeProvider.GetUtcNow(), counts, page.Continuation), "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status200OK);
        }
        catch (TransientDependencyException ex)
        {
            request.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Page(filter, [], $"{ex.Dependency} is unavailable; reload in a moment", StatusCodes.Status503ServiceUnavailable);
        }
    }

    private IResult Page(HistoryFilter filter, IReadOnlyList<IncidentRecord> incidents, string? problem, int status) =>
        Results.Content(Render(filter, incidents, problem, timeProvider.GetUtcNow()), "text/html; charset=utf-8", Encoding.UTF8, status);

    /// <summary>The whole document (public for tests of the encoding).</summary>
    public static string Render(HistoryFilter filter, IReadOnlyList<IncidentRecord> incidents, string? problem, DateTimeOffset now,
        IncidentCounts? counts = null, IncidentCursor? next = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(incidents);
        var html = new StringBuilder(16_384);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Remediation history</title>")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>").Append(Css).Append("</style></head><body>\n")
            .Append("<header><h1>Remediation history</h1><p class=\"muted\">").Append(E(incidents.Count.ToString(CultureInfo.InvariantCulture)))
            .Append(incidents.Count == 1 ? " incident" : " incidents").Append(" on this page, newest first (pages follow incident id order); rendered ")
            .Append(E(Time(now))).Append(" UTC</p></header>\n");
        AppendFilterForm(html, filter);
        if (counts is not null)
        {
            AppendCounts(html, filter, counts);
        }
        if (problem is not null)
        {
            html.Append("<p class=\"problem\" role=\"alert\">").Append(E(problem)).Append("</p>\n");
        }
        if (incidents.Count == 0 && problem is null)
        {
            html.Append("<p class=\"empty\">No incidents match.</p>\n");
        }
        html.Append("<main>\n");
        foreach (var incident in incidents)
        {
            AppendIncident(html, incident);
        }
        html.Append("</main>\n");
        AppendPager(html, filter, next);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void AppendFilterForm(StringBuilder html, HistoryFilter filter)
    {
        html.Append("<form method=\"get\" class=\"filters\">");
        Field(html, "namespace", "Namespace", filter.Namespace);
        Field(html, "workload", "Workload", filter.Workload);
        html.Append("<label>State <select name=\"state\"><option value=\"\">any</option>");
        foreach (var state in States)
        {
            html.Append("<option").Append(state == filter.State ? " selected" : "").Append('>').Append(E(state)).Append("</option>");
        }
        html.Append("</select></label>");
        Field(html, "since", "Since (RFC 3339)", filter.SinceText);
        Field(html, "limit", "Limit", filter.Limit.ToString(CultureInfo.InvariantCulture));
        html.Append("<button type=\"submit\">Filter</button> <a href=\"?\">clear</a></form>\n");
    }

    /// <summary>Incidents per state (for the filters other than state), each a link that filters by it.</summary>
    private static void AppendCounts(StringBuilder html, HistoryFilter filter, IncidentCounts counts)
    {
        html.Append("<p class=\"counts\">").Append(counts.Complete ? "" : "at least ")
            .Append(E(counts.Total.ToString("N0", CultureInfo.InvariantCulture))).Append(counts.Total == 1 ? " incident" : " incidents");
        foreach (var (state, count) in counts.ByState)
        {
            html.Append(" · <a class=\"count state-").Append(E(state.ToLowerInvariant())).Append("\" href=\"")
                .Append(E(Link(filter with { State = state }, null, []))).Append("\">").Append(E(state)).Append(' ')
                .Append(E(count.ToString("N0", CultureInfo.InvariantCulture))).Append("</a>");
        }
        if (!counts.Complete)
        {
            html.Append(" <span class=\"muted\">(counting stopped after ").Append(E(counts.Total.ToString("N0", CultureInfo.InvariantCulture))).Append(" rows)</span>");
        }
        html.Append("</p>\n");
    }

    /// <summary>Most page starts kept in <c>back</c>; past that, "previous" stops and "first page" remains.</summary>
    public const int MaxBack = 20;

    /// <summary>First page, previous (the last entry of <c>back</c>) and next (the page's continuation).</summary>
    private static void AppendPager(StringBuilder html, HistoryFilter filter, IncidentCursor? next)
    {
        var onFirst = filter.Continuation is null;
        if (onFirst && next is null)
        {
            return;
        }
        html.Append("<nav class=\"pager\">");
        if (!onFirst)
        {
            html.Append("<a rel=\"first\" href=\"").Append(E(Link(filter, null, []))).Append("\">first page</a> ");
            if (filter.Back.Count > 0)
            {
                var previous = filter.Back[^1];
                html.Append("<a rel=\"prev\" href=\"").Append(E(Link(filter, previous.Length == 0 ? null : previous, filter.Back.Take(filter.Back.Count - 1).ToList())))
                    .Append("\">← previous</a> ");
            }
        }
        if (next is not null)
        {
            var back = filter.Back.Append(filter.ContinuationText ?? "").TakeLast(MaxBack).ToList();
            html.Append("<a rel=\"next\" href=\"").Append(E(Link(filter, next.Encode(), back))).Append("\">next →</a>");
        }
        html.Append("</nav>\n");
    }

    /// <summary>A link to this page's filters at the page starting at <paramref name="continuation"/> (null: the first).</summary>
    private static string Link(HistoryFilter filter, string? continuation, IReadOnlyList<string> back)
    {
        var query = new List<KeyValuePair<string, string?>>();
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                query.Add(new(key, value));
            }
        }
        Add("namespace", filter.Namespace);
        Add("workload", filter.Workload);
        Add("state", filter.State);
        Add("since", filter.SinceText);
        Add("limit", filter.Limit == HistoryFilter.DefaultLimit ? null : filter.Limit.ToString(CultureInfo.InvariantCulture));
        Add("continuation", continuation);
        Add("back", back.Count == 0 ? null : string.Join(HistoryFilter.BackSeparator, back));
        return query.Count == 0 ? "?" : QueryString.Create(query).ToUriComponent();
    }

    private static void Field(StringBuilder html, string name, string label, string? value) =>
        html.Append("<label>").Append(E(label)).Append(" <input name=\"").Append(name).Append("\" value=\"").Append(E(value)).Append("\"></label>");

    private static void AppendIncident(StringBuilder html, IncidentRecord r)
    {
        html.Append("<article class=\"incident\" id=\"incident-").Append(E(r.IncidentId)).Append("\">\n<h2><span class=\"state state-")
            .Append(E(r.State.ToString().ToLowerInvariant())).Append("\">").Append(E(r.State.ToString())).Append("</span> ")
            .Append(E(r.Namespace ?? "?")).Append('/').Append(E(r.Workload ?? "?")).Append(" <small>").Append(E(r.AlertName)).Append("</small></h2>\n<dl>");
        Row(html, "Incident", $"<code class=\"incident-id\">{E(r.IncidentId)}</code>");
        Row(html, "Alert", $"{E(r.Source)} {E(r.AlertName)}, severity {E(r.Severity ?? "-")}, started {E(Time(r.StartsAt))}");
        if (r.DiagnosisClass is not null)
        {
            Row(html, "Diagnosis", $"<span class=\"diagnosis\">{E(r.DiagnosisClass)}</span>: {E(r.DiagnosisSummary)}{EvidenceList(r.DiagnosisJson)}");
        }
        if (r.Action is not null)
        {
            Row(html, "Action", $"<span class=\"action\">{E(r.Action)}</span>{PlanText(r.PlanJson)}");
        }
        if (r.PriorStateJson is not null)
        {
            Row(html, "Prior state", $"<pre>{WebUtility.HtmlEncode(DisplayText.Escape(Pretty(r.PriorStateJson), keepLineBreaks: true))}</pre>");
        }
        Row(html, "Outcome", $"<span class=\"outcome\">{E(r.Outcome ?? r.State.ToString())}</span>{(r.OutcomeReason is null ? "" : ": " + E(r.OutcomeReason))}");
        Row(html, "Timings", E(Timings(r)));
        html.Append("</dl></article>\n");
    }

    private static void Row(StringBuilder html, string term, string encodedDefinition) =>
        html.Append("<dt>").Append(E(term)).Append("</dt><dd>").Append(encodedDefinition).Append("</dd>");

    private static string EvidenceList(string? diagnosisJson)
    {
        var diagnosis = ParseOrNull(diagnosisJson);
        var items = new StringBuilder();
        foreach (var evidence in diagnosis?["evidence"]?.AsArray() ?? [])
        {
            items.Append("<li><span class=\"source\">").Append(E(evidence?["source"]?.ToString())).Append("</span> ").Append(E(evidence?["text"]?.ToString())).Append("</li>");
        }
        foreach (var missing in diagnosis?["unavailable"]?.AsArray() ?? [])
        {
            items.Append("<li class=\"muted\">not available: ").Append(E(missing?.ToString())).Append("</li>");
        }
        return items.Length == 0 ? "" : "<ul class=\"evidence\">" + items + "</ul>";
    }

    private static string PlanText(string? planJson)
    {
        var plan = ParseOrNull(planJson);
        if (plan is null)
        {
            return "";
        }
        var text = new StringBuilder(": ").Append(E(plan["summary"]?.ToString()));
        var mutations = plan["mutations"]?.AsArray() ?? [];
        if (mutations.Count > 0)
        {
            text.Append("<ul class=\"mutations\">");
            foreach (var mutation in mutations)
            {
                text.Append("<li>").Append(E(mutation?["kind"]?.ToString())).Append(' ').Append(E(mutation?["namespace"]?.ToString())).Append('/')
                    .Append(E(mutation?["name"]?.ToString())).Append(": ").Append(E(mutation?["description"]?.ToString())).Append("</li>");
            }
            text.Append("</ul>");
        }
        return text.ToString();
    }

    private static string Timings(IncidentRecord r)
    {
        var parts = new List<string> { "received " + Time(r.ReceivedAt) };
        if (r.ActedAt is { } acted)
        {
            parts.Add($"acted {Time(acted)} (+{Seconds(acted - r.ReceivedAt)})");
        }
        if (r.CompletedAt is { } completed)
        {
            parts.Add($"completed {Time(completed)} (+{Seconds(completed - r.ReceivedAt)})");
        }
        else if (r.VerifyDeadline is { } deadline)
        {
            parts.Add($"verifying until {Time(deadline)}");
        }
        if (r.ResolvedAt is { } resolved)
        {
            parts.Add("alert resolved " + Time(resolved));
        }
        return string.Join("; ", parts);
    }

    private static JsonNode? ParseOrNull(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create($"(unreadable JSON, {json.Length} characters)");
        }
    }

    private static string Pretty(string json) => ParseOrNull(json) is { } node and (JsonObject or JsonArray) ? node.ToJsonString(PrettyOptions) : json;

    private static readonly System.Text.Json.JsonSerializerOptions PrettyOptions = new()
    {
        WriteIndented = true,
        TypeInfoResolver = RemediationJsonContext.Default,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";

    /// <summary>HTML-encoded, with control, format (bidi) and separator characters shown as <c>\u0007</c>.</summary>
    private static string E(string? text) => WebUtility.HtmlEncode(DisplayText.Escape(text));

    private static readonly string[] States =
    [
        nameof(IncidentState.Received), nameof(IncidentState.Acting), nameof(IncidentState.Verifying), nameof(IncidentState.Succeeded), nameof(IncidentState.Failed),
        nameof(IncidentState.Escalated), nameof(IncidentState.Refused), nameof(IncidentState.NoAction), nameof(IncidentState.DryRun), nameof(IncidentState.Resolved),
        nameof(IncidentState.Ignored),
    ];

    private const string Css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f6f8;color:#1d2733}
        header{background:#1d2733;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header .muted{color:#b8c4d0;margin:4px 0 0}
        .filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end;padding:12px 24px;background:#fff;border-bottom:1px solid #d8dee4}
        .filters label{display:flex;flex-direction:column;font-size:12px;color:#56606b}.filters input,.filters select{font:inherit;padding:3px 6px}
        main{padding:12px 24px}.incident{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:0 0 14px;padding:10px 16px}
        .incident h2{font-size:16px;margin:4px 0 8px}.incident small{color:#56606b;font-weight:normal}
        dl{display:grid;grid-template-columns:110px 1fr;gap:4px 12px;margin:0}dt{color:#56606b}dd{margin:0}
        pre{background:#f4f6f8;padding:6px 8px;border-radius:4px;overflow:auto;max-height:220px;margin:0}
        ul{margin:4px 0;padding-left:18px}.source{display:inline-block;min-width:70px;color:#56606b}
        .state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#d8dee4}
        .state-succeeded,.state-verifying{background:#cdebd3;color:#125c24}.state-failed{background:#f6d2d2;color:#8a1414}
        .state-escalated,.state-refused{background:#fbe5c0;color:#7a4a00}.action,.diagnosis{font-weight:600}
        .counts{margin:0;padding:8px 24px;background:#fff;border-bottom:1px solid #d8dee4}.counts a{color:inherit}
        .pager{padding:0 24px 24px;display:flex;gap:16px}
        .problem{margin:12px 24px;padding:8px 12px;background:#f6d2d2;color:#8a1414;border-radius:4px}.empty,.muted{color:#56606b}.empty{padding:0 24px}
        """;
}

/// <summary>
/// The history page's filters and position, read from the query string; <see cref="Problem"/> says what was malformed.
/// <see cref="Continuation"/> is where this page starts (null: the first page), <see cref="Back"/> the starts of the pages
/// before it, oldest first ("" for the first page).
/// </summary>
public sealed record HistoryFilter(string? Namespace, string? Workload, string? State, DateTimeOffset? Since, string? SinceText, int Limit, string? Problem,
    IncidentCursor? Continuation = null, IReadOnlyList<string>? BackStack = null)
{
    public const int DefaultLimit = 100;

    /// <summary>Separates the page starts of <c>back</c> (never part of a base64url token).</summary>
    public const string BackSeparator = ".";

    public IReadOnlyList<string> Back => BackStack ?? [];

    public string? ContinuationText => Continuation?.Encode();

    public static HistoryFilter FromQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? problem = null;
        var limit = DefaultLimit;
        var limitText = NonEmpty(query["limit"]);
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > AlertEndpoints.MaxPageSize))
        {
            problem = $"'limit' (the page size) must be an integer from 1 to {AlertEndpoints.MaxPageSize}, not '{limitText}'";
            limit = DefaultLimit;
        }
        DateTimeOffset? since = null;
        var sinceText = NonEmpty(query["since"]);
        if (sinceText is not null)
        {
            if (DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                since = parsed;
            }
            else
            {
                problem = $"'since' must be an RFC 3339 time, not '{sinceText}'";
            }
        }
        IncidentCursor? continuation = null;
        if (NonEmpty(query["continuation"]) is { } continuationText && !IncidentCursor.TryParse(continuationText, out continuation))
        {
            problem = "'continuation' is not a page position of this history; start again from the first page";
        }
        List<string> back = [];
        if (query.TryGetValue("back", out var backText))
        {
            back = (backText.ToString() ?? "").Split(BackSeparator).TakeLast(HistoryPage.MaxBack).ToList();
            if (back.Any(b => b.Length > 0 && !IncidentCursor.TryParse(b, out _)))
            {
                problem = "'back' is not a list of page positions of this history; start again from the first page";
                back = [];
            }
        }
        return new HistoryFilter(NonEmpty(query["namespace"]), NonEmpty(query["workload"]), NonEmpty(query["state"]), since, sinceText, limit, problem,
            problem is null ? continuation : null, back);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
