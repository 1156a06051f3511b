using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Remediation.Approvals;
using Remediation.Http.History;
using Remediation.Pipeline;
using Remediation.Storage;

namespace Remediation.Http;

/// <summary>The body of POST /api/remediations/{id}/approve|reject: an optional comment, and the signed token of a link.</summary>
public sealed record ApprovalRequestBody(string? Comment = null, string? Token = null);

/// <summary>The answer recorded: the incident, its state now, the verb, who answered, and one line.</summary>
public sealed record ApprovalResponse(string IncidentId, string State, string Verb, string? AnsweredBy, string Detail);

/// <summary>
/// Answering requests for approval over HTTP: the API (JSON, the host's authentication; the caller's identity from the
/// authenticated principal), the page's buttons and the confirmation page of the Teams/Slack links (forms posting with
/// an anti-forgery token; GET never changes anything). Thin: the rules are <see cref="ApprovalService"/>'s.
/// </summary>
public sealed partial class ApprovalEndpoints(ApprovalService approvals, IIncidentHistory history, TimeProvider timeProvider, ILogger<ApprovalEndpoints> logger)
{
    /// <summary>POST /api/remediations/{id}/approve and /reject.</summary>
    public async Task<IResult> AnswerAsync(HttpRequest request, string id, ApprovalVerb verb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = await RequestBody.ReadJsonAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return RequestBody.TooLarge();
        }
        ApprovalRequestBody parsed;
        try
        {
            parsed = body.Length == 0 ? new() : JsonSerializer.Deserialize(body, WebJsonContext.Default.ApprovalRequestBody) ?? new();
        }
        catch (JsonException ex)
        {
            var path = ex.Path is { Length: > 1 } p ? p : "$";
            return ApiProblem.BadRequest($"the body must be JSON like {{\"comment\": \"...\", \"token\": \"...\"}} (both optional strings): {Remediation.Alerts.JsonErrorText.Describe(ex, path)}",
                path == "$" ? "body" : path.TrimStart('$', '.'));
        }
        var answer = await DecideAsync(request, id, verb, parsed.Comment, parsed.Token, cancellationToken).ConfigureAwait(false);
        return answer.Status is ApprovalAnswerStatus.Approved or ApprovalAnswerStatus.Rejected
            ? Results.Json(Response(id, answer), WebJsonContext.Default.ApprovalResponse)
            : Problem(answer);
    }

    /// <summary>POST /ui/remediations/{id}/approve and /reject: the page's form, refused without a valid anti-forgery token.</summary>
    public async Task<IResult> FormAsync(HttpRequest request, string id, ApprovalVerb verb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (WebhookRequestGuard.CrossSiteReason(request) is { } crossSite)
        {
            LogFormRefused(ShownId(id), crossSite.Reason);
            return ApiProblem.Result(403, "Forbidden", crossSite.Reason, crossSite.Field);
        }
        var antiforgery = request.HttpContext.RequestServices.GetRequiredService<IAntiforgery>();
        if (!request.HasFormContentType || !await antiforgery.IsRequestValidAsync(request.HttpContext).ConfigureAwait(false))
        {
            const string reason = "the form's anti-forgery token is missing or not valid; answer from the history page or the link's confirmation page";
            LogFormRefused(ShownId(id), reason);
            return ApiProblem.Result(400, "Bad Request", reason, ApprovalForms.AntiforgeryField);
        }
        var form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        var token = form["token"].ToString();
        var answer = await DecideAsync(request, id, verb, form["comment"].ToString(), token.Length == 0 ? null : token, cancellationToken).ConfigureAwait(false);
        return answer.Status is ApprovalAnswerStatus.Approved or ApprovalAnswerStatus.Rejected
            ? Results.Redirect($"/ui?state={answer.Incident?.State}")
            : Problem(answer);
    }

    /// <summary>
    /// GET /ui/approvals/{id}?verb=approve|reject&amp;token=...: the page a Teams/Slack link opens. Shows the plan as it is
    /// now and a form that posts the token; changes nothing.
    /// </summary>
    public async Task<IResult> ConfirmAsync(HttpRequest request, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var verbText = request.Query["verb"].ToString();
        if (verbText is not (ApprovalService.ApproveVerb or ApprovalService.RejectVerb))
        {
            return ApiProblem.BadRequest($"'verb' must be approve or reject, not '{Text.DisplayText.Escape(verbText)}'", "verb");
        }
        IncidentRecord? incident;
        try
        {
            incident = await history.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (TransientDependencyException ex)
        {
            return ApiProblem.Unavailable($"{ex.Dependency} is unavailable; reload in a moment", ex.RetryAfter);
        }
        if (incident is null)
        {
            return ApiProblem.Result(404, "Not Found", $"no incident '{ShownId(id)}'", "id");
        }
        var tokens = request.HttpContext.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(request.HttpContext);
        var view = new ConfirmationView(incident, verbText, request.Query["token"].ToString(), new ApprovalForms(tokens), timeProvider.GetUtcNow());
        var headers = request.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = HistoryPage.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        var html = await ConfirmationPage.RenderAsync(request.HttpContext.RequestServices, view, cancellationToken).ConfigureAwait(false);
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8);
    }

    /// <summary>The caller's name and groups, from the principal the host authenticated (null name: none).</summary>
    public static (string? Name, IReadOnlyCollection<string> Groups) Caller(ClaimsPrincipal? user)
    {
        if (user?.Identity is not { IsAuthenticated: true } identity)
        {
            return (null, []);
        }
        var groups = user.Claims.Where(c => c.Type is "groups" or "roles" or ClaimTypes.Role).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        return (identity.Name, groups);
    }

    private Task<ApprovalAnswer> DecideAsync(HttpRequest request, string id, ApprovalVerb verb, string? comment, string? token, CancellationToken cancellationToken)
    {
        var (name, groups) = Caller(request.HttpContext.User);
        return approvals.DecideAsync(id, verb, name, groups, comment, token, cancellationToken);
    }

    /// <summary>Storage or the cluster unavailable: 503 with Retry-After, nothing recorded.</summary>
    public static async Task<IResult> GuardedAsync(Func<Task<IResult>> answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        try
        {
            return await answer().ConfigureAwait(false);
        }
        catch (TransientDependencyException ex)
        {
            return ApiProblem.Unavailable($"{ex.Dependency} is unavailable; retry later (nothing was recorded)", ex.RetryAfter);
        }
    }

    private static ApprovalResponse Response(string id, ApprovalAnswer answer) =>
        new(id, answer.Incident?.State.ToString() ?? "", answer.Incident?.AnswerVerb ?? "", answer.Incident?.AnsweredBy, answer.Detail);

    private static IResult Problem(ApprovalAnswer answer) => answer.Status switch
    {
        ApprovalAnswerStatus.Invalid => ApiProblem.BadRequest(answer.Detail, answer.Field),
        ApprovalAnswerStatus.Forbidden => ApiProblem.Result(403, "Forbidden", answer.Detail, answer.Field),
        ApprovalAnswerStatus.NotFound => ApiProblem.Result(404, "Not Found", answer.Detail, answer.Field),
        _ => ApiProblem.Result(409, "Conflict", answer.Detail, answer.Field),
    };

    private static string ShownId(string id) => Text.DisplayText.Escape(id.Length > 100 ? id[..100] : id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approval form for incident {IncidentId} refused, nothing changed: {Reason}")]
    private partial void LogFormRefused(string incidentId, string reason);
}
