using Remediation.Incidents;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>Recording a decision that takes no action.</summary>
public sealed partial class RemediationPipeline
{
    /// <summary>
    /// Records a first decision that takes no action (refused, escalated, nothing to do) on the summary row alone, only
    /// while the row is still Received and unchanged since it was read (ETag). Acting moves the row out of Received in
    /// the same transaction that inserts the intent (the lock), so whichever writes first wins: a decision not to act
    /// cannot overwrite a worker that acts, and a worker cannot act after it. One write per refused incident: an alert
    /// storm on a workload in cooldown adds no intent or outcome rows to the table.
    /// </summary>
    private Task<IncidentState> CompleteAsync(IncidentRecord incident, Decision decision, CancellationToken cancellationToken) =>
        RecordDecisionAsync(incident, decision, firstDecision: true, cancellationToken);

    /// <summary>
    /// Writes a decision that takes no action: a first one (<paramref name="firstDecision"/>) on the Received row alone; one
    /// resumed from a recorded intent with its outcome row (insert-only, so once).
    /// </summary>
    private async Task<IncidentState> RecordDecisionAsync(IncidentRecord incident, Decision decision, bool firstDecision, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var findings = incident;
        var finish = new IncidentFinish(FinishKind.Decided, decision.State, decision.Reason)
        {
            // A decision resumed from a recorded intent may follow a claimed lead; a first one knows whether it could lead.
            MayLeadGroup = !firstDecision || decision.LeadsGroup,
            Change = row =>
            {
                CopyFindings(findings, row);
                row.GroupId = decision.GroupId ?? row.GroupId;
            },
        };
        IncidentStepRecord Row(string kind)
        {
            var row = IncidentRecorder.Step(incident, kind, _worker, now, finish);
            row.Action = null;
            return row;
        }
        finish = firstDecision
            ? finish with { Condition = row => row.State == IncidentState.Received }
            : finish with { Steps = [Row(IncidentStepRecord.OutcomeKey)] };
        var recorded = await recorder.FinishAsync(incident, finish, cancellationToken).ConfigureAwait(false);
        if (!recorded.Written)
        {
            return recorded.State ?? incident.State;
        }
        LogOutcome("none", decision.State, decision.Reason);
        return decision.State;
    }
}
