using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Incidents;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// Sequences one incident through diagnose → decide → act → record. Owns no stage's logic.
/// Exactly-once acting: the insert of the "intent" row is the lock (only one worker's insert succeeds),
/// and every mutation carries a resourceVersion precondition, so a resumed action cannot apply twice.
/// </summary>
public sealed partial class RemediationPipeline(
    IIncidentStore store,
    IDiagnoser diagnoser,
    RemediationPlanner planner,
    PlanExecutor executor,
    SafetyGate gate,
    IncidentRecorder recorder,
    RemediationMetrics metrics,
    Verification.VerificationScheduler verification,
    CascadeGrouping cascade,
    RememberedRefusals refusals,
    TargetTurns turns,
    ApprovalRequests approvals,
    RemediationOptions options,
    TimeProvider timeProvider,
    ILogger<RemediationPipeline> logger)
{
    private readonly string _worker = options.InstanceId ?? $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Processes one work item; returns the incident's state afterwards (<see cref="WorkResult.Missing"/> without one).</summary>
    public async Task<WorkResult> ProcessAsync(WorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        using var scope = logger.BeginScope("Incident {IncidentId}", item.IncidentId);
        // A new incident's item carries its row as claimed (first delivery only): the read is saved.
        var claimed = Ingest.AlertIngestor.ClaimedRecord(item);
        var incident = claimed ?? await store.GetAsync(item.IncidentId, cancellationToken).ConfigureAwait(false);
        if (incident is null)
        {
            LogMissing(item.IncidentId);
            return WorkResult.Missing;
        }
        return WorkResult.In(await ProcessAsync(incident, fromClaim: claimed is not null, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// load → resume? → aim → gate → diagnose → decide → act → record. <paramref name="fromClaim"/>: the incident is the
    /// claim its first delivery carried (never processed before, so it cannot have taken its group's lead yet).
    /// </summary>
    private async Task<IncidentState> ProcessAsync(IncidentRecord incident, bool fromClaim, CancellationToken cancellationToken)
    {
        if (IncidentLifecycle.IsTerminal(incident.State) || incident.State == IncidentState.Verifying)
        {
            return incident.State;
        }
        if (IsApprovalWork(incident))
        {
            return await ProcessApprovalAsync(incident, cancellationToken).ConfigureAwait(false);
        }
        var alert = JsonSerializer.Deserialize(incident.AlertJson, AlertJsonContext.Default.NormalizedAlert)
            ?? throw new InvalidOperationException($"incident {incident.IncidentId} has no alert");
        // The intent row and the summary's move out of Received are written in one transaction, so a Received
        // incident has no intent and the read is saved.
        if (incident.State != IncidentState.Received
            && await store.GetStepAsync(incident.IncidentId, IncidentStepRecord.Intent, cancellationToken).ConfigureAwait(false) is { } intent)
        {
            return await ResumeAsync(incident, intent, cancellationToken).ConfigureAwait(false);
        }
        var aim = await planner.AimAsync(alert, cancellationToken).ConfigureAwait(false);
        if (aim is not { Target: { } target })
        {
            return await StoppedAtAimAsync(incident, aim, cancellationToken).ConfigureAwait(false);
        }
        // The record names the workload acted on (the owner), not the pod or ReplicaSet the alert named.
        (incident.Namespace, incident.Workload) = (target.Namespace, target.Name);
        // The target's turn (see TargetTurns), held until this incident is decided: another incident of the same target in
        // this instance is decided first, and this one starts from what that one left (a reservation remembered).
        using var turn = await turns.TakeAsync(target.ToString(), cancellationToken).ConfigureAwait(false);
        if (fromClaim && refusals.For(target, incident.IncidentId) is { } remembered)
        {
            // Refused from memory (see RememberedRefusals): neither the group row nor the ledger is read.
            return await CompleteAsync(incident, remembered with { LeadsGroup = CascadeGrouping.IsDerived(incident) }, cancellationToken).ConfigureAwait(false);
        }
        // The group row and the safety gate are read at once (both only read): a workload joining a cascade's lead does
        // not use the gate's verdict, and every other incident needs both.
        var checking = gate.CheckAsync(target, incident.IncidentId, countWhenRefused: planner.Policy.DryRun, cancellationToken);
        var opening = cascade.OpenGroupAsync(incident, target, cancellationToken);
        await Task.WhenAll(opening, checking).ConfigureAwait(false);
        var (grouped, leads, groupRow) = await opening.ConfigureAwait(false);
        if (grouped is not null)
        {
            return await JoinAsync(incident, grouped, cancellationToken).ConfigureAwait(false);
        }

        // A target in cooldown, over its action budget or behind an open breaker will not be acted on whatever the
        // diagnosis says: record that without reading the cluster, so an alert storm adds no load to the API server.
        var check = await checking.ConfigureAwait(false);
        if (check.TargetVerdict != GateVerdict.Allowed && !planner.Policy.DryRun)
        {
            return await CompleteAsync(incident, RemediationPlanner.Stopped(check.TargetVerdict, $"{check.TargetReason} (not diagnosed)") with { LeadsGroup = leads },
                cancellationToken).ConfigureAwait(false);
        }
        var started = timeProvider.GetTimestamp();
        var diagnosis = await DiagnoseAsync(incident, alert, aim, target, cancellationToken).ConfigureAwait(false);
        var decision = await DecideAsync(incident, alert, target, diagnosis, check, cancellationToken).ConfigureAwait(false);
        return await CarryOutAsync(incident, alert, target, diagnosis, decision with { LeadsGroup = leads }, (groupRow, check), started, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The incident its aim stopped (no workload, a refused namespace or owner, an owner that is not a Deployment). Stopped
    /// at its owner, the record names the owner found, as an incident that goes on does, not the pod the alert named.
    /// </summary>
    private Task<IncidentState> StoppedAtAimAsync(IncidentRecord incident, Aim aim, CancellationToken cancellationToken)
    {
        if (aim.Resolution?.Owner is { } owner)
        {
            (incident.Namespace, incident.Workload) = (owner.Namespace, owner.Name);
        }
        return CompleteAsync(incident, aim.Decision! with { LeadsGroup = CascadeGrouping.IsDerived(incident) }, cancellationToken);
    }

    /// <summary>
    /// group → reserve → ask for approval or act, or record the decision not to act. The group row and the gate's check
    /// read before diagnosis are where claiming the lead and reserving start (each re-read if it changed since).
    /// </summary>
    private async Task<IncidentState> CarryOutAsync(IncidentRecord incident, NormalizedAlert alert, WorkloadTarget target, DiagnosisResult diagnosis,
        Decision decision, (IncidentGroupRecord? GroupRow, GateCheck Check) readBefore, long started, CancellationToken cancellationToken)
    {
        if (decision.Kind == DecisionKind.Victim)
        {
            return await JoinAsync(incident, await cascade.JoinCulpritAsync(incident, alert, diagnosis, decision, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        if (decision is not { Kind: DecisionKind.Act, Plan: { } plan })
        {
            return await CompleteAsync(incident, ActedOnMeanwhile(incident, target, decision) ?? decision, cancellationToken).ConfigureAwait(false);
        }
        // The remediations in flight are counted (a read) while the group's lead is claimed (a write); a dry run takes no
        // place under the cap and no slot.
        var counting = decision.DryRun ? null : gate.CountInFlightAsync(incident.IncidentId, cancellationToken);
        var claiming = cascade.ClaimLeadAsync(incident, target, readBefore.GroupRow, cancellationToken);
        await (counting is null ? (Task)claiming : Task.WhenAll(claiming, counting)).ConfigureAwait(false);
        if (await claiming.ConfigureAwait(false) is { } joined)
        {
            return await JoinAsync(incident, joined, cancellationToken).ConfigureAwait(false);
        }
        if (counting is not null && await ReserveAsync(incident, target, decision, await counting.ConfigureAwait(false), readBefore.Check, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return await CompleteAsync(incident, refusal with { LeadsGroup = true }, cancellationToken).ConfigureAwait(false);
        }
        // Registered in flight before anything is mutated: a remediation until it concludes, a dry run until now (it never
        // counts toward the cap; the sweep finds it while it is under way).
        var hold = decision.DryRun ? TimeSpan.Zero : (decision.Approval?.Deadline ?? TimeSpan.Zero) + options.ActionLease + plan.Verify.Deadline;
        if (decision.Approval is not null)
        {
            await gate.RegisterAsync(incident.IncidentId, hold, cancellationToken).ConfigureAwait(false);
            return await RequestApprovalAsync(incident, decision, plan, reason: null, cancellationToken).ConfigureAwait(false);
        }
        return await ActAsync(incident, decision, plan, started, gate.RegisterAsync(incident.IncidentId, hold, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An incident that found nothing to act on (escalate, no action) on a target this process reserved an action for
    /// since the gate's check let the incident through: it was diagnosed while that action was under way, and what it
    /// found (pods restarting, none of the new revision yet, healthy already) is that action's doing, not news for a
    /// person. Decided as it would have been a moment later: refused for the target's cooldown, from memory. Null otherwise.
    /// </summary>
    private Decision? ActedOnMeanwhile(IncidentRecord incident, WorkloadTarget target, Decision decision) =>
        decision.Kind is DecisionKind.Escalate or DecisionKind.NoAction && refusals.For(target, incident.IncidentId) is { } refused
            ? refused with { LeadsGroup = decision.LeadsGroup }
            : null;

    private async Task<DiagnosisResult> DiagnoseAsync(IncidentRecord incident, NormalizedAlert alert, Aim aim, WorkloadTarget target, CancellationToken cancellationToken)
    {
        DiagnosisResult diagnosis;
        using (var span = RemediationMetrics.StartStage("diagnose", incident.IncidentId))
        {
            diagnosis = aim.WithOwnership(await diagnoser.DiagnoseAsync(alert, target, cancellationToken).ConfigureAwait(false));
            span?.SetTag("remediation.diagnosis", diagnosis.Class.ToString());
        }
        incident.DiagnosisClass = diagnosis.Class.ToString();
        incident.DiagnosisSummary = diagnosis.Summary;
        incident.DiagnosisJson = JsonSerializer.Serialize(diagnosis, DiagnosisJsonContext.Default.DiagnosisResult);
        LogDiagnosis(diagnosis.Class, diagnosis.Component, diagnosis.Summary);
        return diagnosis;
    }

    private async Task<Decision> DecideAsync(IncidentRecord incident, NormalizedAlert alert, WorkloadTarget target, DiagnosisResult diagnosis,
        GateCheck check, CancellationToken cancellationToken)
    {
        using var span = RemediationMetrics.StartStage("decide", incident.IncidentId);
        var decision = await planner.DecideAsync(alert, target, diagnosis, check, cancellationToken).ConfigureAwait(false);
        span?.SetTag("remediation.decision", decision.State.ToString());
        span?.SetTag("remediation.rule", decision.Rule);
        return decision;
    }

    /// <summary>
    /// Takes the target's action slot if <paramref name="running"/> leaves a place under the global concurrency cap, or
    /// returns the decision not to act.
    /// </summary>
    private async Task<Decision?> ReserveAsync(IncidentRecord incident, WorkloadTarget target, Decision decision, int running, GateCheck check, CancellationToken cancellationToken)
    {
        var reserved = await gate.ReserveAsync(target, incident.IncidentId, running, check, cancellationToken).ConfigureAwait(false);
        return reserved.Verdict == GateVerdict.Allowed ? null : RemediationPlanner.Stopped(reserved.Verdict, reserved.Reason, decision.Rule);
    }

    /// <summary>
    /// Records the intent (the lock) and the move to Acting in one transaction while <paramref name="registering"/> (the
    /// registration in flight) lands, applies the plan once both have, records the outcome.
    /// </summary>
    private async Task<IncidentState> ActAsync(IncidentRecord incident, Decision decision, ActionPlan plan, long started, Task registering, CancellationToken cancellationToken)
    {
        var planJson = JsonSerializer.Serialize(plan, ActionJsonContext.Default.ActionPlan);
        var intentRow = new IncidentStepRecord
        {
            PartitionKey = incident.IncidentId, RowKey = IncidentRowKeys.For(IncidentStepRecord.Intent, incident.IncidentId), Worker = _worker, At = timeProvider.GetUtcNow(),
            Action = plan.Action, PlanJson = planJson, PriorStateJson = plan.PriorState.ToJsonString(), DryRun = decision.DryRun, Reason = decision.Reason,
        };
        var findings = incident;
        bool ToActing(IncidentRecord row)
        {
            if (row.State != IncidentState.Received)
            {
                return false;
            }
            CopyFindings(findings, row);
            (row.State, row.Action, row.PlanJson, row.PriorStateJson, row.ActedAt) = (IncidentState.Acting, plan.Action, planJson, intentRow.PriorStateJson, intentRow.At);
            return true;
        }
        var writing = recorder.WriteAsync(incident, [intentRow], ToActing, cancellationToken);
        await Task.WhenAll(writing, registering).ConfigureAwait(false);
        var acting = await writing.ConfigureAwait(false);
        if (!acting.Written)
        {
            return acting.State ?? incident.State;
        }
        incident = acting.Incident!;
        bool applied;
        string? failure;
        using (var span = RemediationMetrics.StartStage("act", incident.IncidentId))
        {
            (applied, failure) = await executor.ExecuteAsync(plan, decision.DryRun, cancellationToken).ConfigureAwait(false);
            span?.SetTag("remediation.action", plan.Action);
            span?.SetTag("remediation.dry_run", decision.DryRun);
            span?.SetStatus(applied ? System.Diagnostics.ActivityStatusCode.Ok : System.Diagnostics.ActivityStatusCode.Error, failure);
        }
        metrics.RecordAction(plan.Action, applied ? (decision.DryRun ? "dry-run" : "applied") : "failed", timeProvider.GetElapsedTime(started));
        return await RecordOutcomeAsync(incident, plan, decision.DryRun, applied, failure ?? decision.Reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The outcome of acting: Verifying (its checks scheduled), Failed or DryRun; the outcome row and the summary in one transaction.</summary>
    private async Task<IncidentState> RecordOutcomeAsync(IncidentRecord incident, ActionPlan plan, bool dryRun, bool applied, string reason, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var outcome = !applied ? IncidentState.Failed : dryRun ? IncidentState.DryRun : IncidentState.Verifying;
        var finish = new IncidentFinish(FinishKind.Acted, outcome, reason)
        {
            Plan = plan,
            Change = row => row.VerifyDeadline = outcome == IncidentState.Verifying ? now + plan.Verify.Deadline : row.VerifyDeadline,
        };
        var outcomeRow = IncidentRecorder.Step(incident, IncidentStepRecord.OutcomeKey, _worker, now, finish);
        outcomeRow.DryRun = dryRun;
        finish = finish with { Steps = [outcomeRow] };
        Recorded recorded;
        using (RemediationMetrics.StartStage("record", incident.IncidentId))
        {
            recorded = await recorder.FinishAsync(incident, finish, cancellationToken).ConfigureAwait(false);
        }
        if (!recorded.Written)
        {
            return recorded.State ?? incident.State;
        }
        if (outcome == IncidentState.Verifying)
        {
            await verification.ScheduleAsync(recorded.Incident!, plan.Verify, cancellationToken).ConfigureAwait(false);
        }
        LogOutcome(plan.Action, outcome, reason);
        return outcome;
    }
}
