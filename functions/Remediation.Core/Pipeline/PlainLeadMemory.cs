using Remediation.Alerts;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// Workloads whose group row this process read lately (or wrote) naming a lead that is not a cascade's, for as long as
/// the safety gate remembers a target in cooldown (<see cref="TargetLedger.CooldownMemo"/>). <see cref="CascadeGrouping"/>
/// tells it every group row it reads or writes; <see cref="RememberedRefusals"/> asks it.
/// </summary>
public sealed class PlainLeadMemory(TimeProvider timeProvider)
{
    /// <summary>Per workload: the plain lead's incident id, at most 4,096 workloads.</summary>
    private readonly ExpiringMemo<string> _plainLeads = new(TargetLedger.CooldownMemo, 4096, timeProvider);

    /// <summary>
    /// True when this process read <paramref name="target"/>'s group row within <see cref="TargetLedger.CooldownMemo"/> and
    /// it named a lead that is not a culprit's derived lead (nor <paramref name="incidentId"/>), so no cascade was open to
    /// join. A new incident (it cannot lead the group unless it is derived) that the gate refuses for cooldown from its own
    /// memory is refused on that instead of reading the row: it is refused either way. While the target is in cooldown a
    /// derived lead takes the row only once its last lead ended more than a cooldown ago (CascadeGrouping's
    /// EnsureLeadAsync) or by claiming it after that lead ended; such a lead is refused for the same cooldown. So the
    /// memory may only record Refused where a read would have recorded Grouped with a refused lead; it never changes
    /// what is acted on.
    /// </summary>
    public bool RemembersPlainLead(WorkloadTarget target, string incidentId)
    {
        ArgumentNullException.ThrowIfNull(target);
        return _plainLeads.TryGet(target.ToString(), out var lead, out _) && lead != incidentId;
    }

    /// <summary>Remembers a group row as read (or as this process wrote it): a plain lead is remembered, a cascade's forgotten.</summary>
    public IncidentGroupRecord? Seen(WorkloadTarget target, IncidentGroupRecord? row)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (row is { LeadDerived: false })
        {
            _plainLeads.Remember(target.ToString(), row.LeadIncidentId);
        }
        else
        {
            _plainLeads.Forget(target.ToString());
        }
        return row;
    }
}
