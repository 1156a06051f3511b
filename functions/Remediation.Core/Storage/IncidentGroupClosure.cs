namespace Remediation.Storage;

/// <summary>
/// Closes the members of a group (Victim and Grouped incidents) with their lead's outcome once the lead is over: each
/// member's summary is changed conditionally (ETag, re-read on a lost race), then its member row is marked closed. A
/// member whose change could not be made stays open in the lead's partition and is closed on the next attempt (a member
/// joining, a redelivered work item of the lead), never lost.
/// </summary>
public static class IncidentGroupClosure
{
    /// <summary>Every member's outcome reason starts so once it is closed.</summary>
    public const string ClosedPrefix = "closed with its group's lead";

    /// <summary>Closes the open members of <paramref name="lead"/> when it is in a terminal state; returns how many were closed.</summary>
    public static async Task<int> CloseMembersAsync(IIncidentStore store, IIncidentGroups groups, IncidentRecord lead, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(lead);
        if (!IncidentLifecycle.IsTerminal(lead.State))
        {
            return 0;
        }
        var closed = 0;
        foreach (var member in await groups.OpenMembersAsync(lead.IncidentId, cancellationToken).ConfigureAwait(false))
        {
            var update = await store.UpdateAsync(member.MemberIncidentId, row => Close(row, lead, now), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (update.Record is { } row && row.GroupId == lead.IncidentId && IsClosed(row)
                && await groups.TryMarkClosedAsync(member, cancellationToken).ConfigureAwait(false))
            {
                closed++;
            }
        }
        return closed;
    }

    /// <summary>True when a member's summary carries its lead's outcome.</summary>
    public static bool IsClosed(IncidentRecord member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return member.OutcomeReason?.StartsWith(ClosedPrefix, StringComparison.Ordinal) == true;
    }

    /// <summary>The member's change: only a Victim or Grouped member of this lead, not closed yet (it may not have recorded itself yet).</summary>
    private static bool Close(IncidentRecord row, IncidentRecord lead, DateTimeOffset now)
    {
        if (row.GroupId != lead.IncidentId || row.State is not (IncidentState.Victim or IncidentState.Grouped) || IsClosed(row))
        {
            return false;
        }
        var was = row.OutcomeReason;
        row.Outcome = lead.State.ToString();
        row.OutcomeReason = $"{ClosedPrefix} {lead.IncidentId} ({lead.Namespace}/{lead.Workload}): {lead.State}"
            + (lead.OutcomeReason is { Length: > 0 } why ? $" ({why})" : "") + (was is { Length: > 0 } ? $"; {was}" : "");
        row.CompletedAt = lead.CompletedAt ?? now;
        return true;
    }
}
