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
    /// <summary>The alerted workload is a victim of another workload's failure: joins the culprit's incident group, never acted on.</summary>
    Victim,
    /// <summary>An incident of the same target leads an open group: this one joins it instead of acting.</summary>
    Grouped,
}

/// <summary>What the decide stage concluded; a plan when it acts.</summary>
public sealed record Decision(DecisionKind Kind, string Reason, string? Rule = null, ActionPlan? Plan = null, bool DryRun = false)
{
    /// <summary>For <see cref="DecisionKind.Victim"/> and <see cref="DecisionKind.Grouped"/>: the incident leading the group joined.</summary>
    public string? GroupId { get; init; }
    /// <summary>
    /// The incident may lead its workload's group (the group row names it, it claimed the lead, or it is a culprit's
    /// derived lead), so members may wait on it: its end closes them. False for one decided before it could lead: its end
    /// reads no members.
    /// </summary>
    public bool LeadsGroup { get; init; }
    /// <summary>Set when the plan waits for a person's approval (mode approve): the deadline and who may approve.</summary>
    public Policy.ResolvedMode? Approval { get; init; }

    public Storage.IncidentState State => Kind switch
    {
        DecisionKind.Act => DryRun ? Storage.IncidentState.DryRun : Approval is not null ? Storage.IncidentState.AwaitingApproval : Storage.IncidentState.Acting,
        DecisionKind.Refuse => Storage.IncidentState.Refused,
        DecisionKind.Escalate => Storage.IncidentState.Escalated,
        DecisionKind.Ignore => Storage.IncidentState.Ignored,
        DecisionKind.Victim => Storage.IncidentState.Victim,
        DecisionKind.Grouped => Storage.IncidentState.Grouped,
        _ => Storage.IncidentState.NoAction,
    };
}
