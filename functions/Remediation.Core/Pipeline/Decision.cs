using Remediation.Actions;

namespace Remediation.Pipeline;

public enum DecisionKind
{
    Act,
    Refuse,
    Escalate,
    NoAction,
    /// <summary>The alert names no Kubernetes workload and the policy ignores those.</summary>
    Ignore,
}

/// <summary>What the decide stage concluded; a plan when it acts.</summary>
public sealed record Decision(DecisionKind Kind, string Reason, string? Rule = null, ActionPlan? Plan = null, bool DryRun = false)
{
    public string State => Kind switch
    {
        DecisionKind.Act => DryRun ? Storage.IncidentStates.DryRun : Storage.IncidentStates.Acting,
        DecisionKind.Refuse => Storage.IncidentStates.Refused,
        DecisionKind.Escalate => Storage.IncidentStates.Escalated,
        DecisionKind.Ignore => Storage.IncidentStates.Ignored,
        _ => Storage.IncidentStates.NoAction,
    };
}
