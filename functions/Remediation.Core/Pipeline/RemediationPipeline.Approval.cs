using System.Text.Json;
using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Approvals;
using Remediation.Incidents;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// Review mode (policy mode approve): the decision to act records the full plan and waits in AwaitingApproval; the
/// deadline escalates it; an approved plan runs exactly as recorded, or, when the cluster changed since, nothing runs
/// and the incident is re-diagnosed, re-planned and asks again.
/// </summary>
public sealed partial class RemediationPipeline
{
    /// <summary>An incident waiting for its answer, or approved and not yet acted on.</summary>
    private static bool IsApprovalWork(IncidentRecord incident) =>
        incident.State == IncidentState.AwaitingApproval
        || (incident.State == IncidentState.Acting && incident.AnswerVerb == ApprovalService.ApproveVerb && incident.PlanDigest is not null);

    private Task<IncidentState> ProcessApprovalAsync(IncidentRecord incident, CancellationToken cancellationToken) =>
        incident.State == IncidentState.AwaitingApproval
            ? ExpireApprovalAsync(incident, cancellationToken)
            : RunApprovedAsync(incident, cancellationToken);

    /// <summary>
    /// Records the plan, its digest and deadline, and moves the incident to AwaitingApproval (from Received, or from Acting
    /// when an approved plan was re-planned), conditionally on the row as read; then schedules the deadline and asks.
    /// </summary>
    private async Task<IncidentState> RequestApprovalAsync(IncidentRecord incident, Decision decision, ActionPlan plan, string? reason, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var deadline = now + decision.Approval!.Deadline;
        var (digest, planJson, from, previous) = (PlanDigest.Of(plan), JsonSerializer.Serialize(plan, ActionJsonContext.Default.ActionPlan), incident.State, incident.PlanDigest);
        var findings = incident;
        bool ToAwaiting(IncidentRecord row)
        {
            if (row.State != from || row.PlanDigest != previous)
            {
                return false;
            }
            CopyFindings(findings, row);
            (row.State, row.Action, row.PlanJson, row.PriorStateJson, row.PlanDigest) = (IncidentState.AwaitingApproval, plan.Action, planJson, plan.PriorState.ToJsonString(), digest);
            (row.ApprovalRule, row.ApprovalRequestedAt, row.ApprovalDeadline, row.ApprovalRound, row.ApprovalReason) = (decision.Rule, now, deadline, row.ApprovalRound + 1, reason);
            (row.AnswerVerb, row.AnsweredBy, row.AnsweredAt, row.AnswerComment, row.AnswerTokenNonce) = (null, null, null, null, null);
            (row.Outcome, row.OutcomeReason) = (nameof(IncidentState.AwaitingApproval), $"awaiting approval until {deadline:yyyy-MM-dd'T'HH:mm:ss'Z'}: {decision.Reason}");
            return true;
        }
        var recorded = await recorder.WriteAsync(incident, [], ToAwaiting, cancellationToken).ConfigureAwait(false);
        if (!recorded.Written)
        {
            return recorded.State ?? incident.State;
        }
        LogApprovalRequested(digest, deadline, decision.Approval.ModeFrom);
        await approvals.RequestedAsync(recorded.Incident!, plan, cancellationToken).ConfigureAwait(false);
        return IncidentState.AwaitingApproval;
    }

    /// <summary>The deadline's work item (or the sweep's): past the deadline, an unanswered request is Escalated.</summary>
    private async Task<IncidentState> ExpireApprovalAsync(IncidentRecord incident, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (incident.ApprovalDeadline is not { } deadline || now < deadline)
        {
            return incident.State;
        }
        var recorded = await recorder.FinishAsync(incident, ApprovalService.TimedOut(incident, deadline), cancellationToken).ConfigureAwait(false);
        return recorded.State ?? incident.State;
    }

    /// <summary>
    /// Acts on an approved plan exactly as recorded: takes the intent for its digest (one worker does), checks that the
    /// objects are still at the resourceVersions the plan was made from, applies it with those preconditions and records
    /// the outcome. When an object changed, nothing is applied: the incident is re-planned and asks again.
    /// </summary>
    private async Task<IncidentState> RunApprovedAsync(IncidentRecord incident, CancellationToken cancellationToken)
    {
        var digest = incident.PlanDigest!;
        var intent = await store.GetStepAsync(incident.IncidentId, IncidentStepRecord.Intent, cancellationToken).ConfigureAwait(false);
        if (intent is not null && intent.PlanDigest == digest)
        {
            return await ResumeAsync(incident, intent, cancellationToken).ConfigureAwait(false);
        }
        var plan = JsonSerializer.Deserialize(incident.PlanJson!, ActionJsonContext.Default.ActionPlan)
            ?? throw new InvalidOperationException($"incident {incident.IncidentId} was approved without a plan");
        if (await TakeApprovedIntentAsync(incident, intent, plan, cancellationToken).ConfigureAwait(false) is not { } held)
        {
            return IncidentState.Acting;
        }
        incident = held;
        if (await approvals.ChangedSinceAsync(plan, cancellationToken).ConfigureAwait(false) is { } change)
        {
            LogApprovedPlanStale(change);
            return await ReplanAsync(incident, $"the cluster changed since the plan approved by {incident.AnsweredBy}: {change}; nothing was applied", cancellationToken).ConfigureAwait(false);
        }
        var started = timeProvider.GetTimestamp();
        var (applied, failure) = await executor.ExecuteAsync(plan, dryRun: false, cancellationToken).ConfigureAwait(false);
        metrics.RecordAction(plan.Action, applied ? "applied" : "failed", timeProvider.GetElapsedTime(started));
        return await RecordOutcomeAsync(incident, plan, dryRun: false, applied, failure ?? $"approved by {incident.AnsweredBy}: {plan.Summary}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The lock of acting on an approved digest: the intent row inserted (first round) or replaced, ETag-conditional, from
    /// an earlier round's; then the summary is read again to be sure it still holds this approval. Null: another worker has it.
    /// </summary>
    private async Task<IncidentRecord?> TakeApprovedIntentAsync(IncidentRecord incident, IncidentStepRecord? previous, ActionPlan plan, CancellationToken cancellationToken)
    {
        var digest = incident.PlanDigest;
        var row = new IncidentStepRecord
        {
            PartitionKey = incident.IncidentId, RowKey = IncidentRowKeys.For(IncidentStepRecord.Intent, incident.IncidentId), Worker = _worker, At = timeProvider.GetUtcNow(),
            Action = plan.Action, PlanJson = incident.PlanJson, PriorStateJson = incident.PriorStateJson, PlanDigest = digest, Reason = $"approved by {incident.AnsweredBy}",
        };
        bool StillApproved(IncidentRecord r) => r.State == IncidentState.Acting && r.PlanDigest == digest && r.AnswerVerb == ApprovalService.ApproveVerb;
        if (previous is null)
        {
            var written = await recorder.WriteAsync(incident, [row], StillApproved, cancellationToken).ConfigureAwait(false);
            return written.Written ? written.Incident : null;
        }
        row.ETag = previous.ETag;
        if (!await store.TryUpdateStepAsync(row, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var now = await store.GetAsync(incident.IncidentId, cancellationToken).ConfigureAwait(false);
        return now is not null && StillApproved(now) ? now : null;
    }

    /// <summary>Re-diagnoses and re-decides an approved incident whose plan no longer applies; asks again, or records why not.</summary>
    private async Task<IncidentState> ReplanAsync(IncidentRecord incident, string change, CancellationToken cancellationToken)
    {
        var alert = JsonSerializer.Deserialize(incident.AlertJson, AlertJsonContext.Default.NormalizedAlert)
            ?? throw new InvalidOperationException($"incident {incident.IncidentId} has no alert");
        var aim = await planner.AimAsync(alert, cancellationToken).ConfigureAwait(false);
        Decision decision;
        if (aim is not { Target: { } target })
        {
            decision = aim.Decision!;
        }
        else
        {
            var diagnosis = await DiagnoseAsync(incident, alert, aim, target, cancellationToken).ConfigureAwait(false);
            // This incident holds the target's slot since it asked: the gate has already let it through.
            decision = await DecideAsync(incident, alert, target, diagnosis, GateCheck.Held("slot reserved by this incident"), cancellationToken).ConfigureAwait(false);
        }
        if (decision is { Kind: DecisionKind.Act, Plan: { } plan, Approval: not null })
        {
            return await RequestApprovalAsync(incident, decision, plan, $"{change}. The new plan:\n{PlanDiff.Of(plan).ToText()}", cancellationToken).ConfigureAwait(false);
        }
        if (decision.Kind == DecisionKind.Act)
        {
            decision = new Decision(DecisionKind.Escalate, $"{change}; the policy no longer asks for approval of the new plan ({decision.Reason}); a human must look", decision.Rule);
        }
        var state = await RecordDecisionAsync(incident, decision with { Reason = $"{change}; re-planned: {decision.Reason}" }, firstDecision: false, cancellationToken).ConfigureAwait(false);
        await gate.ReleaseAsync(incident.IncidentId, cancellationToken).ConfigureAwait(false);
        return state;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Plan {Digest} awaits approval until {Deadline} (mode from {ModeFrom})")]
    private partial void LogApprovalRequested(string digest, DateTimeOffset deadline, string modeFrom);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The approved plan no longer applies, nothing applied: {Change}")]
    private partial void LogApprovedPlanStale(string change);
}
