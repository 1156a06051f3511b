using System.Text.Json;
using Remediation.Actions;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>Resuming an incident whose intent was written and whose outcome was not.</summary>
public sealed partial class RemediationPipeline
{
    /// <summary>An intent exists without an outcome: the worker that wrote it crashed or is still working.</summary>
    private async Task<IncidentState> ResumeAsync(IncidentRecord incident, IncidentStepRecord intent, CancellationToken cancellationToken)
    {
        if (await store.GetStepAsync(incident.IncidentId, IncidentStepRecord.OutcomeKey, cancellationToken).ConfigureAwait(false) is not null)
        {
            return incident.State;
        }
        if (intent.Worker != _worker && timeProvider.GetUtcNow() - intent.At < options.ActionLease)
        {
            return IncidentState.Acting;
        }
        if (intent.PlanJson is null)
        {
            // A decision not to act whose worker stopped before recording its outcome.
            var kind = intent.Outcome switch { nameof(IncidentState.Refused) => DecisionKind.Refuse, nameof(IncidentState.Escalated) => DecisionKind.Escalate, _ => DecisionKind.NoAction };
            return await RecordDecisionAsync(incident, new Decision(kind, intent.Reason ?? "decided without acting"), firstDecision: false, cancellationToken).ConfigureAwait(false);
        }
        var plan = JsonSerializer.Deserialize(intent.PlanJson, ActionJsonContext.Default.ActionPlan)
            ?? throw new InvalidOperationException($"intent of incident {incident.IncidentId} has no plan");
        LogResume(incident.IncidentId, intent.Worker);
        // Registered again (idempotent): the first attempt's registration may not have landed with its intent.
        await gate.RegisterAsync(incident.IncidentId, intent.DryRun ? TimeSpan.Zero : options.ActionLease + plan.Verify.Deadline, cancellationToken).ConfigureAwait(false);
        // Re-applying is safe: each mutation carries the resourceVersion it was planned from; if the first attempt went
        // through, the API answers 409/422, nothing is applied twice, and the object is checked for what the plan wrote.
        var (applied, failure) = await executor.ExecuteAsync(plan, intent.DryRun, cancellationToken).ConfigureAwait(false);
        return await RecordOutcomeAsync(incident, plan, intent.DryRun, applied, failure ?? $"resumed after interruption of worker {intent.Worker}", cancellationToken).ConfigureAwait(false);
    }
}
