using Microsoft.Extensions.Logging;
using Remediation.Approvals;
using Remediation.Hosting;
using Remediation.Incidents;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>How an answer to a request for approval came out; the status maps to HTTP (and to the CLI's exit code).</summary>
public enum ApprovalAnswerStatus
{
    Approved,
    Rejected,
    /// <summary>400: the input is malformed (the field is named).</summary>
    Invalid,
    /// <summary>403: the caller may not answer (not a listed approver, no named identity, a token that does not verify).</summary>
    Forbidden,
    /// <summary>404: no such incident.</summary>
    NotFound,
    /// <summary>409: the incident is not awaiting this answer (answered already, timed out, re-planned).</summary>
    Conflict,
}

/// <summary>The outcome of <see cref="ApprovalService.DecideAsync"/>: the status, one line for people, the field at fault, the incident now.</summary>
public sealed record ApprovalAnswer(ApprovalAnswerStatus Status, string Detail, string? Field = null, IncidentRecord? Incident = null);

/// <summary>
/// Answers a request for approval: ONE conditional (ETag) transition out of AwaitingApproval, conditional on the plan
/// digest and the deadline as read. Approving twice, approving after the deadline, and approve racing reject (or the
/// deadline) come to exactly one recorded outcome; every other attempt gets a Conflict and is logged as refused.
/// Approved: the incident moves to Acting and is queued; the worker runs exactly the recorded plan.
/// </summary>
public sealed partial class ApprovalService(
    IIncidentStore store,
    IncidentRecorder recorder,
    PolicyProvider policy,
    ApprovalLinks links,
    WorkQueue queue,
    IInFlightRemediations inFlight,
    RemediationOptions options,
    TimeProvider timeProvider,
    ILogger<ApprovalService> logger)
{
    public const string ApproveVerb = "approve";
    public const string RejectVerb = "reject";
    public const int MaxCommentLength = 1000;

    /// <summary>Answers incident <paramref name="incidentId"/>'s request as <paramref name="identity"/> (member of
    /// <paramref name="groups"/>), with an optional comment and, from a Teams/Slack link, its signed token.</summary>
    public async Task<ApprovalAnswer> DecideAsync(string incidentId, ApprovalVerb verb, string? identity, IReadOnlyCollection<string> groups, string? comment,
        string? token = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var name = ApprovalTokenSigner.Name(verb);
        if (InputProblem(incidentId, comment) is { } invalid)
        {
            return Refused(incidentId, name, identity, invalid);
        }
        var incident = await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false);
        if (incident is null)
        {
            return Refused(incidentId, name, identity, new(ApprovalAnswerStatus.NotFound, $"no incident '{Text.DisplayText.Escape(incidentId)}'", "id"));
        }
        if (Check(incident, verb, identity, groups, token) is { } refusal)
        {
            return Refused(incidentId, name, identity, refusal with { Incident = incident });
        }
        if (incident.ApprovalDeadline is { } deadline && timeProvider.GetUtcNow() >= deadline)
        {
            var expired = await recorder.FinishAsync(incident, TimedOut(incident, deadline), cancellationToken).ConfigureAwait(false);
            return Refused(incidentId, name, identity, NotAwaiting(expired.Incident ?? incident, incident.PlanDigest, "no longer awaiting approval"));
        }
        var nonce = token is null ? null : links.Signer!.Verify(token, incidentId, incident.PlanDigest!, verb).Token?.Nonce;
        var answer = new Answer(name, identity!, timeProvider.GetUtcNow(), comment is { Length: > 0 } ? comment : null, nonce, incident.PlanDigest!, incident.ApprovalRound);
        var recorded = verb == ApprovalVerb.Approve
            ? await recorder.WriteAsync(incident, [answer.Step(incident)], row => Awaits(row, answer) && Approve(row, answer), cancellationToken).ConfigureAwait(false)
            : await recorder.FinishAsync(incident, Rejection(incident, answer), cancellationToken).ConfigureAwait(false);
        if (!recorded.Written)
        {
            return Refused(incidentId, name, identity, NotAwaiting(recorded.Incident ?? incident, answer.Digest, "answered meanwhile"));
        }
        LogAnswered(incidentId, name, answer.By, answer.Comment ?? "");
        if (verb == ApprovalVerb.Reject)
        {
            return new ApprovalAnswer(ApprovalAnswerStatus.Rejected, $"rejected: incident {incidentId} is Refused", Incident: recorded.Incident);
        }
        await QueueApprovedAsync(recorded.Incident!, cancellationToken).ConfigureAwait(false);
        return new ApprovalAnswer(ApprovalAnswerStatus.Approved, $"approved: incident {incidentId} is acting on plan {answer.Digest}", Incident: recorded.Incident);
    }

    /// <summary>The Escalated end of a request nobody answered by <paramref name="deadline"/> (the pipeline's deadline check uses it too).</summary>
    public static IncidentFinish TimedOut(IncidentRecord incident, DateTimeOffset deadline)
    {
        ArgumentNullException.ThrowIfNull(incident);
        var digest = incident.PlanDigest;
        return new IncidentFinish(FinishKind.Unapproved, IncidentState.Escalated, $"approval timed out: nobody answered by {deadline:yyyy-MM-dd'T'HH:mm:ss'Z'}")
        {
            Condition = row => row.PlanDigest == digest && row.ApprovalDeadline is { } d && d <= deadline,
        };
    }

    /// <summary>Why this caller may not answer this incident now, or null. A request past its deadline is escalated here.</summary>
    private ApprovalAnswer? Check(IncidentRecord incident, ApprovalVerb verb, string? identity, IReadOnlyCollection<string> groups, string? token)
    {
        if (incident.State != IncidentState.AwaitingApproval || incident.PlanDigest is null)
        {
            return NotAwaiting(incident, null, "not awaiting approval");
        }
        if (string.IsNullOrWhiteSpace(identity))
        {
            return new(ApprovalAnswerStatus.Forbidden, "the caller's credentials name no person; an approval needs a named identity (e.g. Basic user or Entra ID sign-in)", "Authorization");
        }
        var approvers = policy.Current.Approval.Resolve(incident.ApprovalRule, incident.Namespace ?? "").Approvers;
        if (!approvers.IsAllowed(identity, groups))
        {
            return new(ApprovalAnswerStatus.Forbidden, $"'{Text.DisplayText.Escape(identity)}' is not an approver of incident {incident.IncidentId} (policy approval.approvers)", "Authorization");
        }
        if (token is not null)
        {
            if (links.Signer is null)
            {
                return new(ApprovalAnswerStatus.Invalid, "signed approval links are not configured on this host (Remediation:Approvals:SigningKey)", "token");
            }
            var check = links.Signer.Verify(token, incident.IncidentId, incident.PlanDigest, verb);
            if (!check.IsValid)
            {
                return new(ApprovalAnswerStatus.Forbidden, $"{check.Reason} ({check.Failure})", "token");
            }
        }
        return null;
    }

    private static ApprovalAnswer? InputProblem(string incidentId, string? comment)
    {
        if (string.IsNullOrWhiteSpace(incidentId) || incidentId.Length > ApprovalTokenSigner.MaxIncidentIdLength || incidentId.Any(char.IsControl))
        {
            return new(ApprovalAnswerStatus.Invalid, $"the incident id must be 1 to {ApprovalTokenSigner.MaxIncidentIdLength} printable characters", "id");
        }
        if (comment is { Length: > MaxCommentLength })
        {
            return new(ApprovalAnswerStatus.Invalid, $"the comment is {comment.Length} characters; at most {MaxCommentLength}", "comment");
        }
        return null;
    }

    private ApprovalAnswer NotAwaiting(IncidentRecord incident, string? digest, string why)
    {
        var now = timeProvider.GetUtcNow();
        var detail = incident.State switch
        {
            IncidentState.AwaitingApproval when digest is not null && incident.PlanDigest != digest => "it was re-planned and awaits approval of a new plan",
            IncidentState.AwaitingApproval when incident.ApprovalDeadline <= now => "its approval timed out",
            _ when incident.AnswerVerb is { } verb => $"it was answered already ({verb} by {incident.AnsweredBy} at {incident.AnsweredAt:yyyy-MM-dd'T'HH:mm:ss'Z'}) and is {incident.State}",
            _ => $"it is {incident.State}: {incident.OutcomeReason}",
        };
        return new(ApprovalAnswerStatus.Conflict, $"incident {incident.IncidentId} is {why}: {detail}", "id", incident);
    }

    private ApprovalAnswer Refused(string incidentId, string verb, string? identity, ApprovalAnswer answer)
    {
        LogRefused(Text.DisplayText.Escape(incidentId), verb, Text.DisplayText.Escape(identity ?? "(none)"), answer.Status, answer.Detail);
        return answer;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Incident {IncidentId}: {Verb} by {Identity}: {Comment}")]
    private partial void LogAnswered(string incidentId, string verb, string identity, string comment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approval refused, nothing changed: incident {IncidentId}, {Verb} by {Identity}: {Status} {Reason}")]
    private partial void LogRefused(string incidentId, string verb, string identity, ApprovalAnswerStatus status, string reason);
}
