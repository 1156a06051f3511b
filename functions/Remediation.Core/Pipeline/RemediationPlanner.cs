using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.Diagnosis;
using Remediation.Policy;

namespace Remediation.Pipeline;

/// <summary>
/// Decide stage: diagnosis + policy → a decision with its plan. Reads only, so `plan`, dry runs and live runs
/// share it and cannot disagree; every refusal, limit and cap comes from the <see cref="SafetyGate"/>.
/// </summary>
public sealed class RemediationPlanner(PolicyProvider policyProvider, ActionCatalog actions, SafetyGate gate, OwnerResolver owners)
{
    public RemediationPolicy Policy => policyProvider.Current;

    /// <summary>
    /// Aim: from the object the alert names to the workload the policy may touch, or the decision not to. A namespace the
    /// policy refuses is not read at all; a pod, ReplicaSet, HPA or Job is resolved to its owner through the cluster; the
    /// allowlist is matched against the owner; only Deployments are acted on, other owners are escalated by name.
    /// </summary>
    public async Task<Aim> AimAsync(NormalizedAlert alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return AimWithoutReading(alert) ?? AimAt(alert.Target!, await owners.ResolveAsync(alert.Target!, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The aim when it reads nothing: the alert names no workload, one in a namespace the policy refuses, or the workload
    /// itself (a Deployment, a StatefulSet: no owner to resolve). Null when the owner must be read from the cluster.
    /// </summary>
    public Aim? AimWithoutReading(NormalizedAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var policy = policyProvider.Current;
        if (alert.Target is not { } reference)
        {
            return Aim.Stop(new Decision(policy.Ignores(alert) ? DecisionKind.Ignore : DecisionKind.Escalate, policy.UnmappedReason(alert)));
        }
        if (gate.NamespaceRefusal(reference.Namespace) is { } refused)
        {
            // Default deny: a target outside the allowlist is not even read.
            return Aim.Stop(new Decision(DecisionKind.Refuse, refused));
        }
        return WorkloadKinds.HasOwnerToResolve(reference.Kind) ? null : AimAt(reference, OwnerResolver.Itself(reference));
    }

    private Aim AimAt(WorkloadTarget reference, OwnerResolution resolution)
    {
        if (resolution.Owner is not { } owner)
        {
            return Aim.Stop(new Decision(DecisionKind.Escalate, $"owner of {reference.Describe()} not found: {resolution.Problem} ({resolution.Path})"), resolution);
        }
        if (gate.Refusal(owner) is { } refusal)
        {
            return Aim.Stop(new Decision(DecisionKind.Refuse, resolution.Chain.Count > 1 ? $"{refusal} ({resolution.Path})" : refusal), resolution);
        }
        if (owner.Kind != WorkloadKinds.Deployment)
        {
            return Aim.Stop(new Decision(DecisionKind.Escalate,
                $"{resolution.Path}: the owner is {owner.Kind} {owner}; the product's actions act on Deployments only, a human must look"), resolution);
        }
        return new Aim(owner, null, resolution);
    }

    /// <param name="check">The safety gate's verdict when the caller has just read it (saves the storage reads).</param>
    public async Task<Decision> DecideAsync(NormalizedAlert alert, WorkloadTarget target, DiagnosisResult diagnosis,
        GateCheck? check = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(diagnosis);
        ArgumentNullException.ThrowIfNull(target);
        var policy = policyProvider.Current;
        if (gate.Refusal(target) is { } refusal)
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
            case FailureClass.Victim:
                // Never acted on: the culprit (the component) is remediated in its own incident, under the policy that applies to it.
                return new Decision(DecisionKind.Victim, $"not acted on: {diagnosis.Summary}; the culprit {diagnosis.Component} is remediated in its own incident");
        }
        // Matched on the labels of the object acted on, not on the alert's as sent (see RuleLabels).
        var rule = policy.Match(RuleLabels.Of(alert.Labels, target), diagnosis.Class);
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
        check ??= await gate.CheckAsync(target, alert.IncidentId, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (check.Verdict != GateVerdict.Allowed)
        {
            return Stopped(check.Verdict, check.Reason, rule.Name);
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
        return ActOn(policy, rule, target, plan);
    }

    /// <summary>The decision to act under the rule's mode: dry run, wait for approval, or act.</summary>
    private static Decision ActOn(RemediationPolicy policy, PolicyRule rule, WorkloadTarget target, ActionPlan plan)
    {
        var mode = policy.Approval.Resolve(rule.Name, target.Namespace);
        // The older dryRun flags: a policy built without modes keeps its global dry run unless a more specific mode is set.
        var dryRun = mode.Mode == RemediationMode.DryRun || rule.DryRun || (policy.DryRun && mode.ModeFrom is "mode" or "default");
        return new Decision(DecisionKind.Act, $"rule '{rule.Name}': {plan.Summary}", rule.Name, plan, dryRun)
        {
            Approval = !dryRun && mode.Mode == RemediationMode.Approve ? mode : null,
        };
    }

    /// <summary>The decision not to act when the safety gate says no: a refusal, or an escalation to a human.</summary>
    public static Decision Stopped(GateVerdict verdict, string reason, string? rule = null) =>
        new(verdict == GateVerdict.Escalated ? DecisionKind.Escalate : DecisionKind.Refuse, reason, rule);
}

/// <summary>The aim stage's result: the workload to diagnose, or the decision that stops here; and how the owner was found.</summary>
public sealed record Aim(WorkloadTarget? Target, Decision? Decision, OwnerResolution? Resolution)
{
    public static Aim Stop(Decision decision, OwnerResolution? resolution = null) => new(null, decision, resolution);

    /// <summary>The diagnosis with the ownership chain first in its evidence, when the alert named something other than the workload.</summary>
    public DiagnosisResult WithOwnership(DiagnosisResult diagnosis)
    {
        ArgumentNullException.ThrowIfNull(diagnosis);
        return Resolution is { Chain.Count: > 1 } r
            ? diagnosis with { Evidence = [new Evidence("kubernetes", $"ownership: {r.Path}", new Dictionary<string, string> { ["kind"] = "ownership", ["chain"] = r.Path }), .. diagnosis.Evidence] }
            : diagnosis;
    }
}
