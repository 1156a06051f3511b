using Remediation.Incidents;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>Recording a decision that takes no action.</summary>
public sealed partial class RemediationPipeline
{
    /// <summary>
    /// Records a decision that takes no action (refused, escalated, nothing to do). It takes the intent row, the same
    /// lock as acting, so it cannot overwrite a worker that acts; intent, outcome and summary go in one transaction.
    /// </summary>
    private Task<IncidentState> CompleteAsync(IncidentRecord incident, Decision decision, CancellationToken cancellationToken) =>
        RecordDecisionAsync(incident, decision, takeIntent: true, cancellationToken);

    /// <summary>Writes the outcome (and, with <paramref name="takeIntent"/>, the intent) of a decision that takes no action; insert-only, so once.</summary>
    private async Task<IncidentState> RecordDecisionAsync(IncidentRecord incident, Decision decision, bool takeIntent, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var findings = incident;
        var finish = new IncidentFinish(FinishKind.Decided, decision.State, decision.Reason)
        {
            // A decision resumed from a recorded intent may follow a claimed lead; a first one knows whether it could lead.
            MayLeadGroup = !takeIntent || decision.LeadsGroup,
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
        finish = finish with { Steps = takeIntent ? [Row(IncidentStepRecord.Intent), Row(IncidentStepRecord.OutcomeKey)] : [Row(IncidentStepRecord.OutcomeKey)] };
        var recorded = await recorder.FinishAsync(incident, finish, cancellationToken).ConfigureAwait(false);
        if (!recorded.Written)
        {
            return recorded.State ?? incident.State;
        }
        LogOutcome("none", decision.State, decision.Reason);
        return decision.State;
    }
}
