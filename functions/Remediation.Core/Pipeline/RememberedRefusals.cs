using Remediation.Alerts;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// The one decision taken from this process's memory alone, with no read: a new incident on a Deployment the safety gate
/// remembers in cooldown (<see cref="SafetyGate.RememberedRefusal"/>), with no cascade open to join by the group row this
/// process read lately (<see cref="PlainLeadMemory.RemembersPlainLead"/>). It would be refused whatever it were diagnosed
/// as, so it is refused without being diagnosed. The claim takes it for an alert that names its Deployment (the refusal is
/// the claim's own insert: one write, no work item); the worker takes it on a new incident's first pass, for the alerts
/// whose owner it had to resolve and those claimed before the memory held. Dry runs are never decided from memory.
/// </summary>
public sealed class RememberedRefusals(RemediationPlanner planner, SafetyGate gate, PlainLeadMemory plainLeads) : Ingest.IClaimDecisions
{
    /// <summary>
    /// The refusal of a firing alert at its claim when its aim reads nothing and the memory refuses its Deployment; null
    /// otherwise (it is queued, and the worker decides).
    /// </summary>
    public (IncidentState State, string Reason)? AtClaim(NormalizedAlert alert, IncidentRecord claim)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(claim);
        return alert.Status == AlertStatus.Firing && !CascadeGrouping.IsDerived(claim)
            && planner.AimWithoutReading(alert) is { Target: { } target } && For(target, claim.IncidentId) is { } refused
            ? (refused.State, refused.Reason)
            : null;
    }

    /// <summary>The refusal of a new incident <paramref name="incidentId"/> on <paramref name="target"/> (its aim) from memory; null when memory does not settle it.</summary>
    public Decision? For(WorkloadTarget target, string incidentId)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (planner.Policy.DryRun || gate.RememberedRefusal(target) is not { } refused || !plainLeads.RemembersPlainLead(target, incidentId))
        {
            return null;
        }
        return RemediationPlanner.Stopped(refused.Verdict, $"{refused.Reason} (not diagnosed)");
    }
}
