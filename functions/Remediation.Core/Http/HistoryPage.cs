using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Remediation.Storage;

namespace Remediation.Http;

/// <summary>
/// GET / (and /ui): the read-only remediation history as one server-rendered HTML page, newest first:
/// diagnosis with its evidence, action with its plan and prior state, outcome and timings. Filters come from the
/// query string (namespace, workload, state, since, limit), as for GET /api/remediations. Everything shown is
/// HTML-encoded; there are no scripts and no external assets, and the Content-Security-Policy forbids both.
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
            var records = await store.ListAsync(new IncidentQuery(filter.Namespace, filter.Workload, filter.State, filter.Since, filter.Limit), cancellationToken).ConfigureAwait(false);
            return Page(filter, records, null, StatusCodes.Status200OK);
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
    public static string Render(HistoryFilter filter, IReadOnlyList<IncidentRecord> incidents, string? problem, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(incidents);
        var html = new StringBuilder(16_384);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Remediation history</title>")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>").Append(Css).Append("</style></head><body>\n")
            .Append("<header><h1>Remediation history</h1><p class=\"muted\">").Append(E(incidents.Count.ToString(CultureInfo.InvariantCulture)))
            .Append(incidents.Count == 1 ? " incident" : " incidents").Append(", newest first; rendered ").Append(E(Time(now))).Append(" UTC</p></header>\n");
        AppendFilterForm(html, filter);
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
        html.Append("</main></body></html>\n");
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

    private static void Field(StringBuilder html, string name, string label, string? value) =>
        html.Append("<label>").Append(E(label)).Append(" <input name=\"").Append(name).Append("\" value=\"").Append(E(value)).Append("\"></label>");

    private static void AppendIncident(StringBuilder html, IncidentRecord r)
    {
        html.Append("<article class=\"incident\" id=\"incident-").Append(E(r.IncidentId)).Append("\">\n<h2><span class=\"state state-")
            .Append(E(r.State.ToLowerInvariant())).Append("\">").Append(E(r.State)).Append("</span> ")
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
            Row(html, "Prior state", $"<pre>{E(Pretty(r.PriorStateJson))}</pre>");
        }
        Row(html, "Outcome", $"<span class=\"outcome\">{E(r.Outcome ?? r.State)}</span>{(r.OutcomeReason is null ? "" : ": " + E(r.OutcomeReason))}");
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

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static readonly string[] States =
    [
        IncidentStates.Received, IncidentStates.Acting, IncidentStates.Verifying, IncidentStates.Succeeded, IncidentStates.Failed,
        IncidentStates.Escalated, IncidentStates.Refused, IncidentStates.NoAction, IncidentStates.DryRun, IncidentStates.Resolved,
        IncidentStates.Ignored,
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
        .problem{margin:12px 24px;padding:8px 12px;background:#f6d2d2;color:#8a1414;border-radius:4px}.empty,.muted{color:#56606b}.empty{padding:0 24px}
        """;
}

/// <summary>The history page's filters, read from the query string; <see cref="Problem"/> says what was malformed.</summary>
public sealed record HistoryFilter(string? Namespace, string? Workload, string? State, DateTimeOffset? Since, string? SinceText, int Limit, string? Problem)
{
    public const int DefaultLimit = 100;

    public static HistoryFilter FromQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? problem = null;
        var limit = DefaultLimit;
        var limitText = NonEmpty(query["limit"]);
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            problem = $"'limit' must be an integer from 1 to 1000, not '{limitText}'";
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
        return new HistoryFilter(NonEmpty(query["namespace"]), NonEmpty(query["workload"]), NonEmpty(query["state"]), since, sinceText, limit, problem);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
