using System.Text.Json;
using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Notifications;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Incidents;

/// <summary>How an incident ends: which writer concludes it decides where it may conclude from and who is told.</summary>
public enum FinishKind
{
    /// <summary>A decision that takes no action (refused, escalated, nothing to do), from Received or Acting.</summary>
    Decided,
    /// <summary>The outcome of acting (Verifying, Failed, DryRun), from Acting.</summary>
    Acted,
    /// <summary>The verifier's verdict (Succeeded, Failed, Escalated), from Verifying.</summary>
    Verified,
    /// <summary>The work item was poisoned: Failed, from any state that is not terminal.</summary>
    Poisoned,
    /// <summary>A request for approval rejected (Refused) or unanswered by its deadline (Escalated), from AwaitingApproval.</summary>
    Unapproved,
}

/// <summary>
/// The end of an incident as one writer records it. <see cref="Steps"/> are written with the summary in one transaction;
/// <see cref="Change"/> sets the writer's other fields (findings, verification deadline) on the row as it is now.
/// </summary>
public sealed record IncidentFinish(FinishKind Kind, IncidentState State, string Reason)
{
    public IReadOnlyList<IncidentStepRecord> Steps { get; init; } = [];
    public Action<IncidentRecord>? Change { get; init; }
    /// <summary>A further condition on the row as it is now (e.g. still awaiting the same plan); false: not written.</summary>
    public Func<IncidentRecord, bool>? Condition { get; init; }
    /// <summary>The plan acted on, when there was one (the ledger's target, the metric's action).</summary>
    public ActionPlan? Plan { get; init; }
    /// <summary>
    /// False when the incident ended before it could lead a group (it never claimed the lead and the group row does not
    /// name it): no member can wait on it, so its end reads no members. True (the default) for every other end.
    /// </summary>
    public bool MayLeadGroup { get; init; } = true;
}

/// <summary>What recording came to: whether this writer's change was written, and the incident as it is now.</summary>
public sealed record Recorded(bool Written, IncidentRecord? Incident)
{
    public IncidentState? State => Incident?.State;
}

/// <summary>
/// The one recorder of incident outcomes: every path that ends an incident (pipeline, verifier, poison handler) writes
/// its summary here, conditionally (ETag; a lost race is re-read and re-applied), and then, when the incident is
/// concluded, removes it from the in-flight count, tells the target ledger (failures count toward the circuit breaker,
/// a success resets it), records the metric and notifies.
/// </summary>
public sealed partial class IncidentRecorder(
    IIncidentStore store,
    IInFlightRemediations inFlight,
    IIncidentGroups groups,
    TargetLedger ledger,
    OutcomeNotifier notifier,
    RemediationMetrics metrics,
    TimeProvider timeProvider,
    ILogger<IncidentRecorder> logger)
{
    /// <summary>
    /// Writes <paramref name="steps"/> and the summary change in one transaction (or the change alone without steps).
    /// Without a summary row the steps are written alone and the change is applied to <paramref name="incident"/>, the
    /// working copy. Not written when a step exists (another worker got there first: the incident is re-read) or the
    /// change no longer applies (the row as it is now).
    /// </summary>
    public async Task<Recorded> WriteAsync(IncidentRecord incident, IReadOnlyList<IncidentStepRecord> steps, Func<IncidentRecord, bool> apply, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(apply);
        var update = steps.Count > 0
            ? await store.TryAddStepsAndUpdateAsync(steps, incident, apply, cancellationToken).ConfigureAwait(false)
            : await store.UpdateAsync(incident.IncidentId, apply, incident, cancellationToken).ConfigureAwait(false);
        switch (update.Outcome)
        {
            case IncidentWriteOutcome.Written:
                return new Recorded(true, update.Record);
            case IncidentWriteOutcome.Missing when steps.Count > 0:
                // No summary row: the steps were written alone (the lock is held); the working copy carries the change.
                _ = apply(incident);
                return new Recorded(true, incident);
            case IncidentWriteOutcome.Declined:
                return new Recorded(false, update.Record);
            case IncidentWriteOutcome.StepExists:
                LogLostRace(incident.IncidentId);
                return new Recorded(false, update.Record ?? incident);
            default:
                return new Recorded(false, null);
        }
    }

    /// <summary>Records how the incident ends (or, for <see cref="IncidentState.Verifying"/>, that it awaits its verdict).</summary>
    public async Task<Recorded> FinishAsync(IncidentRecord incident, IncidentFinish finish, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(finish);
        var now = timeProvider.GetUtcNow();
        if (finish.Kind == FinishKind.Poisoned)
        {
            // Insert-only and apart from the summary: an outcome step written by the worker that acted stays.
            await store.TryAddStepAsync(Step(incident, IncidentStepRecord.OutcomeKey, "poison", now, finish), cancellationToken).ConfigureAwait(false);
        }
        bool Apply(IncidentRecord row)
        {
            if (!MayFinish(finish.Kind, row.State) || !IncidentLifecycle.CanMove(row.State, finish.State) || finish.Condition?.Invoke(row) == false)
            {
                return false;
            }
            finish.Change?.Invoke(row);
            row.State = finish.State;
            row.Outcome = finish.State.ToString();
            row.OutcomeReason = finish.Reason;
            if (IncidentLifecycle.IsTerminal(finish.State))
            {
                row.CompletedAt = now;
            }
            return true;
        }
        var recorded = await WriteAsync(incident, finish.Kind == FinishKind.Poisoned ? [] : finish.Steps, Apply, cancellationToken).ConfigureAwait(false);
        if (!recorded.Written && finish.Kind != FinishKind.Decided && recorded.State is { } state && IncidentLifecycle.IsTerminal(state))
        {
            // Concluded already (by another writer, or by this one's write whose answer was lost and whose retry was told
            // the row had changed): whoever concluded it may not have removed its registration, and the sweep that would
            // can be minutes away. Removing it is idempotent.
            await inFlight.RemoveInFlightAsync(incident.IncidentId, cancellationToken).ConfigureAwait(false);
        }
        if (!recorded.Written || !IncidentLifecycle.IsTerminal(finish.State))
        {
            return recorded;
        }
        await ConcludedAsync(recorded.Incident!, finish, now, cancellationToken).ConfigureAwait(false);
        return recorded;
    }

    /// <summary>A step row of the incident's partition for <paramref name="finish"/>, by <paramref name="worker"/>.</summary>
    public static IncidentStepRecord Step(IncidentRecord incident, string kind, string worker, DateTimeOffset at, IncidentFinish finish)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(finish);
        return new()
        {
            PartitionKey = incident.IncidentId, RowKey = IncidentRowKeys.For(kind, incident.IncidentId), Worker = worker, At = at,
            Action = finish.Plan?.Action ?? incident.Action, Outcome = finish.State.ToString(), Reason = finish.Reason,
        };
    }

    private static bool MayFinish(FinishKind kind, IncidentState state) => kind switch
    {
        FinishKind.Decided => state is IncidentState.Received or IncidentState.Acting,
        FinishKind.Acted => state == IncidentState.Acting,
        FinishKind.Verified => state == IncidentState.Verifying,
        FinishKind.Unapproved => state == IncidentState.AwaitingApproval,
        _ => !IncidentLifecycle.IsTerminal(state),
    };

    private async Task ConcludedAsync(IncidentRecord incident, IncidentFinish finish, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (finish.Kind == FinishKind.Verified
            && await store.GetStepAsync(incident.IncidentId, IncidentStepRecord.OutcomeKey, cancellationToken).ConfigureAwait(false) is { } step)
        {
            // The outcome step said Verifying; it now says how verification ended.
            step.Outcome = finish.State.ToString();
            step.Reason = finish.Reason;
            step.At = now;
            await store.TryUpdateStepAsync(step, cancellationToken).ConfigureAwait(false);
        }
        if (finish.Kind != FinishKind.Decided)
        {
            await inFlight.RemoveInFlightAsync(incident.IncidentId, cancellationToken).ConfigureAwait(false);
        }
        if (LedgerTarget(incident, finish) is { } target)
        {
            await ledger.RecordOutcomeAsync(target, incident.IncidentId, finish.State == IncidentState.Succeeded, cancellationToken).ConfigureAwait(false);
        }
        switch (finish.Kind)
        {
            case FinishKind.Decided or FinishKind.Unapproved:
                metrics.RecordDecision(finish.State.ToString());
                break;
            case FinishKind.Verified when finish.Plan is { } plan:
                metrics.RecordVerification(plan.Action, finish.State switch { IncidentState.Succeeded => "succeeded", IncidentState.Escalated => "unverified", _ => "failed" });
                break;
        }
        // A group's lead is over: its members (victims, alerts of the same target) close with its outcome.
        if (finish.MayLeadGroup)
        {
            await IncidentGroupClosure.CloseMembersAsync(store, groups, incident, now, cancellationToken).ConfigureAwait(false);
        }
        await notifier.NotifyAsync(incident, cancellationToken).ConfigureAwait(false);
        LogFinished(incident.IncidentId, finish.State, finish.Reason);
    }

    /// <summary>
    /// The target whose circuit breaker hears of this end: a failed action, a verified success or failure (not an
    /// unverifiable one), and poisoned work (the plan's target, else the workload the incident names).
    /// </summary>
    private static WorkloadTarget? LedgerTarget(IncidentRecord incident, IncidentFinish finish) => finish.Kind switch
    {
        FinishKind.Acted when finish.State == IncidentState.Failed => finish.Plan?.Target,
        FinishKind.Verified when finish.State != IncidentState.Escalated => finish.Plan?.Target,
        FinishKind.Poisoned => PlanOf(incident)?.Target
            ?? (incident is { Namespace: { Length: > 0 } ns, Workload: { Length: > 0 } name } ? new WorkloadTarget(ns, name) : null),
        _ => null,
    };

    private static ActionPlan? PlanOf(IncidentRecord incident) =>
        incident.PlanJson is { Length: > 0 } json ? JsonSerializer.Deserialize(json, ActionJsonContext.Default.ActionPlan) : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Incident {IncidentId}: another worker holds the intent; not acting")]
    private partial void LogLostRace(string incidentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Incident {IncidentId} concluded {State}: {Reason}")]
    private partial void LogFinished(string incidentId, IncidentState state, string reason);
}
