using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Policy;

namespace Remediation.Pipeline;

/// <summary>
/// Decide stage: diagnosis + policy → a decision with its plan. Reads only, so `plan`, dry runs and live runs
/// share it and cannot disagree.
/// </summary>
public sealed class RemediationPlanner(PolicyProvider policyProvider, ActionCatalog actions, TargetLedger ledger)
{
    public RemediationPolicy Policy => policyProvider.Current;

    /// <param name="gate">The target's safety-limit verdict when the caller has just read it (saves a storage read).</param>
    public async Task<Decision> DecideAsync(NormalizedAlert alert, WorkloadTarget target, DiagnosisResult diagnosis,
        (GateVerdict Verdict, string Reason)? gate = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(diagnosis);
        var policy = policyProvider.Current;
        if (policy.RefusalFor(target.Namespace, target.Name) is { } refusal)
        {
            return new Decision(DecisionKind.Refuse, refusal);
        }
        switch (diagnosis.Class)
        {
            case FailureClass.Healthy:
                return new Decision(DecisionKind.NoAction, $"healthy now: {diagnosis.Summary}");
            case FailureClass.Unknown:
                return new Decision(DecisionKind.Escalate, $"diagnosis unknown: {diagnosis.Summary}");
            case FailureClass.NotFound:
                return new Decision(DecisionKind.Escalate, diagnosis.Summary);
        }
        var rule = policy.Match(alert.Labels, diagnosis.Class);
        if (rule is null)
        {
            return new Decision(DecisionKind.Escalate, $"no policy rule matches alert '{alert.Name}' with diagnosis {diagnosis.Class}");
        }
        if (rule.Action == ActionNames.Escalate)
        {
            return new Decision(DecisionKind.Escalate, $"rule '{rule.Name}' escalates {diagnosis.Class}", rule.Name);
        }
        if (rule.Action == ActionNames.None)
        {
            return new Decision(DecisionKind.NoAction, $"rule '{rule.Name}' takes no action on {diagnosis.Class}", rule.Name);
        }
        var action = actions.Find(rule.Action)
            ?? throw new InvalidOperationException($"rule '{rule.Name}' names action '{rule.Action}', which is not registered");
        var (verdict, reason) = gate ?? await ledger.CheckAsync(target, policy.Limits, cancellationToken).ConfigureAwait(false);
        if (verdict != GateVerdict.Allowed)
        {
            return new Decision(verdict == GateVerdict.Escalated ? DecisionKind.Escalate : DecisionKind.Refuse, reason, rule.Name);
        }
        ActionPlan plan;
        try
        {
            plan = await action.PlanAsync(new ActionContext(target, diagnosis, rule.Parameters, policy.Limits), cancellationToken).ConfigureAwait(false);
        }
        catch (ActionNotApplicableException ex)
        {
            return new Decision(DecisionKind.Escalate, $"{rule.Action} not applicable: {ex.Message}", rule.Name);
        }
        plan = plan with { Verify = plan.Verify with { Deadline = policy.Limits.VerifyDeadline, Soak = policy.Limits.VerifySoak } };
        if (plan.Mutations.Count is 0 or > 3)
        {
            return new Decision(DecisionKind.Escalate, $"{rule.Action} planned {plan.Mutations.Count} mutating calls; a remediation makes 1 to 3", rule.Name);
        }
        return new Decision(DecisionKind.Act, $"rule '{rule.Name}': {plan.Summary}", rule.Name, plan, policy.DryRun || rule.DryRun);
    }
}
