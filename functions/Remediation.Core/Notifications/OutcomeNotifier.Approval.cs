using System.Text.Json.Serialization;
using Remediation.Approvals;
using Remediation.Storage;

namespace Remediation.Notifications;

/// <summary>A request for approval, as published: the diagnosis, the plan as before -> after changes, and the links.</summary>
public sealed record ApprovalRequestedEvent(
    [property: JsonPropertyName("incidentId")] string IncidentId,
    [property: JsonPropertyName("alertName")] string AlertName,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("workload")] string? Workload,
    [property: JsonPropertyName("diagnosis")] string? Diagnosis,
    [property: JsonPropertyName("diagnosisSummary")] string? DiagnosisSummary,
    [property: JsonPropertyName("action")] string? Action,
    [property: JsonPropertyName("planDigest")] string? PlanDigest,
    [property: JsonPropertyName("changes")] IReadOnlyList<string> Changes,
    [property: JsonPropertyName("deadline")] DateTimeOffset? Deadline,
    [property: JsonPropertyName("round")] int Round,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("approveUrl")] Uri? ApproveUrl,
    [property: JsonPropertyName("rejectUrl")] Uri? RejectUrl)
{
    public const string EventType = "Remediation.ApprovalRequested";

    public static ApprovalRequestedEvent From(IncidentRecord r, PlanDiff diff, ApprovalLinkPair? links)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(diff);
        return new(r.IncidentId, r.AlertName, r.Namespace, r.Workload, r.DiagnosisClass, r.DiagnosisSummary, r.Action, r.PlanDigest,
            [.. diff.Changes.Select(c => c.ToString())], r.ApprovalDeadline, r.ApprovalRound, r.ApprovalReason, links?.Approve, links?.Reject);
    }

    /// <summary>The Teams/Slack text: what was found, what would change, until when, and where to answer.</summary>
    [JsonIgnore]
    public string Text => string.Join('\n', new string?[]
    {
        $"[Approval needed] {AlertName} on {Namespace ?? "?"}/{Workload ?? "?"}: {Action} (incident {IncidentId})",
        Diagnosis is null ? null : $"Diagnosis {Diagnosis}: {DiagnosisSummary}",
        Reason is null ? null : $"Asked again: {Reason}",
        "Plan (before -> after):",
        string.Join('\n', Changes.Select(c => "  " + c)),
        $"Deadline: {Deadline:yyyy-MM-dd'T'HH:mm:ss'Z'} (unanswered: escalated)",
        ApproveUrl is null ? "Answer on the history page or with: remediation approve|reject " + IncidentId : $"Approve: {ApproveUrl}",
        RejectUrl is null ? null : $"Reject: {RejectUrl}",
    }.Where(line => line is not null));
}

public sealed record ApprovalWebhookMessage([property: JsonPropertyName("text")] string Text, [property: JsonPropertyName("approval")] ApprovalRequestedEvent Approval);

/// <summary>Requests for approval go out through the same channels as outcomes, best effort (the request stays recorded).</summary>
public sealed partial class OutcomeNotifier
{
    public async Task NotifyApprovalRequestedAsync(IncidentRecord incident, PlanDiff diff, ApprovalLinkPair? links, CancellationToken cancellationToken = default)
    {
        var request = ApprovalRequestedEvent.From(incident, diff, links);
        await SendAsync(incident, ApprovalRequestedEvent.EventType, $"{request.IncidentId}-approval-{request.Round}", incident.ApprovalRequestedAt,
            System.Text.Json.JsonSerializer.SerializeToElement(request, NotificationJsonContext.Default.ApprovalRequestedEvent),
            new ApprovalWebhookMessage(request.Text, request), NotificationJsonContext.Default.ApprovalWebhookMessage, cancellationToken).ConfigureAwait(false);
    }
}
