using Remediation.Actions;

namespace Remediation.Pipeline;

public enum DecisionKind
{
    Act,
    Refuse,
    Escalate,
    NoAction,
}

/// <summary>What the decide stage concluded; a plan when it acts.</summary>
public sealed record Decision(DecisionKind Kind, string Reason, string? Rule = null, ActionPlan? Plan = null, bool DryRun = false)
{
    public string State => Kind switch
    {
        DecisionKind.Act => DryRun ? Storage.IncidentStates.DryRun : Storage.IncidentStates.Acting,
        DecisionKind.Refuse => Storage.IncidentStates.Refused,
        DecisionKind.Escalate => Storage.IncidentStates.Escalated,
        _ => Storage.IncidentStates.NoAction,
    };
}
