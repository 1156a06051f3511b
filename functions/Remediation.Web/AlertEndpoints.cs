using System.Globalization;
using Microsoft.AspNetCore.Http;
using Remediation.Alerts;
using Remediation.Ingest;
using Remediation.Storage;

namespace Remediation.Http;

/// <summary>
/// The HTTP endpoints, shared by the Functions app and the standalone host: parse, call the core, map the result.
/// </summary>
public sealed class AlertEndpoints(AlertIngestor ingestor, IncidentStore store, RemediationMetrics metrics, TimeProvider timeProvider)
{
    /// <summary>POST /api/alerts/alertmanager — Alertmanager webhook (version 4).</summary>
    public Task<IResult> AlertmanagerAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ParseAndIngestAsync(request, "an Alertmanager webhook payload", body => AlertmanagerNormalizer.Parse(body), cancellationToken);

    /// <summary>POST /api/alerts/azuremonitor — Azure Monitor action group webhook, common alert schema.</summary>
    public Task<IResult> AzureMonitorAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ParseAndIngestAsync(request, "an Azure Monitor common alert schema payload", body => [AzureMonitorNormalizer.Parse(body)], cancellationToken);

    /// <summary>Refuses cross-site and non-JSON requests (403, 415), reads the body (413 over the limit, 400 when empty or unparseable, naming the field) and ingests its alerts.</summary>
    private async Task<IResult> ParseAndIngestAsync(HttpRequest request, string expected, Func<byte[], IReadOnlyList<NormalizedAlert>> parse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = timeProvider.GetTimestamp();
        if (WebhookRequestGuard.Check(request) is { } refused)
        {
            return refused;
        }
        var body = await RequestBody.ReadJsonAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return RequestBody.TooLarge();
        }
        if (body.Length == 0)
        {
            return ApiProblem.BadRequest($"the request body is empty; expected {expected}", "body");
        }
        IReadOnlyList<NormalizedAlert> alerts;
        try
        {
            alerts = parse(body);
        }
        catch (AlertParseException ex)
        {
            return ApiProblem.BadRequest(ex.Message, ex.Field);
        }
        return await IngestAsync(alerts, started, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// POST /api/alerts/eventgrid — Event Grid schema and CloudEvents 1.0 (structured, batched, binary).
    /// A SubscriptionValidationEvent is answered 200 {"validationResponse": code}; alerts are ingested (202).
    /// </summary>
    public async Task<IResult> EventGridAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = timeProvider.GetTimestamp();
        if (WebhookRequestGuard.Check(request) is { } refused)
        {
            return refused;
        }
        var (problem, delivery) = await EventGridEndpoints.ReadAsync(request, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }
        if (delivery!.ValidationCode is { } code)
        {
            return Results.Json(new SubscriptionValidationResponse(code), WebJsonContext.Default.SubscriptionValidationResponse);
        }
        return await IngestAsync(delivery.Alerts, started, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Claims and queues normalized alerts; 202, or 503 + Retry-After when storage is down.</summary>
    public async Task<IResult> IngestAsync(IReadOnlyList<NormalizedAlert> alerts, long started, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        try
        {
            var result = await ingestor.IngestAsync(alerts, cancellationToken).ConfigureAwait(false);
            metrics.RecordIngest(timeProvider.GetElapsedTime(started));
            return Results.Json(new IngestResponse(result.Accepted, result.Duplicates, result.Resolved, result.Escalated, result.IncidentIds, result.Ignored, result.Refused),
                WebJsonContext.Default.IngestResponse, statusCode: StatusCodes.Status202Accepted);
        }
        catch (AlertTooLargeException ex)
        {
            // Refused whole, before any claim.
            return ApiProblem.BadRequest(ex.Message, "$");
        }
        catch (TransientDependencyException ex)
        {
            return ApiProblem.Unavailable($"{ex.Dependency} is unavailable; retry later (nothing was lost)", ex.RetryAfter);
        }
    }

    /// <summary>Most incidents in one page of GET /api/remediations (and the history page).</summary>
    public const int MaxPageSize = 1000;

    /// <summary>
    /// GET /api/remediations?namespace=&amp;workload=&amp;state=&amp;since=&amp;limit=&amp;continuation= — one page of history
    /// (<see cref="IncidentStore.ListPageAsync"/>: newest first by when the alert started firing, across pages) as
    /// <c>{"incidents": [...], "continuation": "..."}</c>, the continuation also as <c>Link: &lt;...&gt;; rel="next"</c>. No
    /// continuation: that was the last page.
    /// </summary>
    public async Task<IResult> ListAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var q = request.Query;
        if (HistoryInput.Repeated(q) is { } repeated)
        {
            return ApiProblem.BadRequest(HistoryInput.RepeatedProblem(repeated), repeated.Name);
        }
        var limit = 100;
        if (q.TryGetValue("limit", out var limitText))
        {
            if (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize)
            {
                return ApiProblem.BadRequest($"'limit' (the page size) must be an integer from 1 to {MaxPageSize}, not '{limitText}'; page with 'continuation'", "limit");
            }
        }
        DateTimeOffset? since = null;
        if (q.TryGetValue("since", out var sinceText))
        {
            since = HistoryInput.Since(sinceText);
            if (since is null)
            {
                return ApiProblem.BadRequest($"'since' must be {HistoryInput.SinceForm}, not '{sinceText}'", "since");
            }
        }
        string? state = null;
        if (q.TryGetValue("state", out var stateText))
        {
            state = HistoryInput.State(stateText);
            if (state is null)
            {
                return ApiProblem.BadRequest($"'state' must be {HistoryInput.StateForm}, not '{stateText}'", "state");
            }
        }
        IncidentCursor? from = null;
        if (q.TryGetValue("continuation", out var continuationText))
        {
            if (!IncidentCursor.TryParse(continuationText, out from))
            {
                return ApiProblem.BadRequest("'continuation' is not a continuation token of this API; pass the 'continuation' of the previous page unchanged", "continuation");
            }
        }
        try
        {
            var page = await store.ListPageAsync(new IncidentQuery(q["namespace"], q["workload"], state, since, Select: IncidentStore.ListColumns), limit, from, cancellationToken).ConfigureAwait(false);
            var next = page.Continuation?.Encode();
            if (next is not null)
            {
                request.HttpContext.Response.Headers.Append("Link", $"<{NextUrl(request, next)}>; rel=\"next\"");
            }
            return Results.Json(new IncidentListResponse(page.Incidents.Select(IncidentView.From).ToList(), next), WebJsonContext.Default.IncidentListResponse);
        }
        catch (TransientDependencyException ex)
        {
            return ApiProblem.Unavailable($"{ex.Dependency} is unavailable; retry later", ex.RetryAfter);
        }
    }

    /// <summary>The request's own path and query with <c>continuation</c> set to <paramref name="next"/> (relative to the host).</summary>
    private static string NextUrl(HttpRequest request, string next)
    {
        var query = new List<KeyValuePair<string, string?>>();
        foreach (var (key, values) in request.Query)
        {
            if (!string.Equals(key, "continuation", StringComparison.OrdinalIgnoreCase))
            {
                query.AddRange(values.Select(v => new KeyValuePair<string, string?>(key, v)));
            }
        }
        query.Add(new("continuation", next));
        return request.PathBase.Add(request.Path).ToUriComponent() + QueryString.Create(query).ToUriComponent();
    }
}

/// <summary>One page of GET /api/remediations; <see cref="Continuation"/> (absent on the last page) asks for the next.</summary>
public sealed record IncidentListResponse(IReadOnlyList<IncidentView> Incidents, string? Continuation);

public sealed record IngestResponse(int Accepted, int Duplicates, int Resolved, int Escalated, IReadOnlyList<string> Incidents, int Ignored = 0, int Refused = 0);

/// <summary>An incident as the API and the CLI show it.</summary>
public sealed record IncidentView(
    string IncidentId, string State, string Source, string AlertName, string? Namespace, string? Workload, string? Severity,
    DateTimeOffset StartsAt, DateTimeOffset ReceivedAt, DateTimeOffset? ResolvedAt, string? Diagnosis, string? DiagnosisSummary,
    string? Action, string? Outcome, string? OutcomeReason, DateTimeOffset? ActedAt, DateTimeOffset? CompletedAt,
    System.Text.Json.Nodes.JsonNode? DiagnosisDetail, System.Text.Json.Nodes.JsonNode? Plan, System.Text.Json.Nodes.JsonNode? PriorState,
    string? GroupId = null)
{
    public static IncidentView From(IncidentRecord r) => new(
        r.IncidentId, r.State.ToString(), r.Source, r.AlertName, r.Namespace, r.Workload, r.Severity, r.StartsAt, r.ReceivedAt, r.ResolvedAt,
        r.DiagnosisClass, r.DiagnosisSummary, r.Action, r.Outcome, r.OutcomeReason, r.ActedAt, r.CompletedAt,
        Parse(r.DiagnosisJson), Parse(r.PlanJson), Parse(r.PriorStateJson), r.GroupId);

    private static System.Text.Json.Nodes.JsonNode? Parse(string? json) => json is null ? null : System.Text.Json.Nodes.JsonNode.Parse(json);
}
