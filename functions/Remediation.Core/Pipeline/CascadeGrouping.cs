using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// One remediation per cascade. The incidents of one failing workload form a group led by one incident (the group row of
/// the workload, inserted or taken over conditionally, names it): a victim of the workload (service-graph blame) joins the
/// lead as <see cref="IncidentState.Victim"/>; another alert for the workload itself joins as
/// <see cref="IncidentState.Grouped"/>; neither is acted on. Without an open lead, a victim's culprit gets one: a derived
/// incident for the culprit (its id from the group key and a time window, so victims arriving together converge on it),
/// claimed and queued through the ingest path, then diagnosed and decided under the culprit's own policy. Members are
/// closed with the lead's outcome by <see cref="IncidentGroupClosure"/> when the lead is over.
/// </summary>
public sealed class CascadeGrouping(IIncidentStore store, IIncidentGroups groups, AlertIngestor ingestor, PolicyProvider policies, PlainLeadMemory plainLeads, TimeProvider timeProvider)
{
    /// <summary>Derived leads of one culprit created within this window share one incident id.</summary>
    public static readonly TimeSpan LeadWindow = TimeSpan.FromMinutes(10);

    /// <summary>Alert name of a derived lead's alert when the victim's has none.</summary>
    public const string DerivedAlertName = "ServiceGraphCulprit";

    private const string DerivedFingerprintPrefix = "culprit|";

    private const int MaxAttempts = 5;

    /// <summary>
    /// The decision to join the open group of <paramref name="target"/> led by another incident (null when there is none),
    /// and whether this incident may lead the group itself: the group row names it, or it is a culprit's derived lead.
    /// Only a derived lead is joined here, so for a group whose row says its lead is not derived the lead is not read.
    /// The group row as read is returned for <see cref="ClaimLeadAsync"/>.
    /// </summary>
    public async Task<(Decision? Join, bool Leads, IncidentGroupRecord? Row)> OpenGroupAsync(IncidentRecord incident, WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(target);
        var group = plainLeads.Seen(target, await groups.GetGroupAsync(target.Namespace, target.Name, cancellationToken).ConfigureAwait(false));
        if (group is null || group.LeadIncidentId == incident.IncidentId || !group.LeadDerived || await OpenCascadeLeadAsync(group, cancellationToken).ConfigureAwait(false) is not { } lead)
        {
            return (null, group?.LeadIncidentId == incident.IncidentId || IsDerived(incident), group);
        }
        return (Grouped(target, lead), false, group);
    }

    /// <summary>
    /// Before acting on <paramref name="target"/>: makes this incident the lead of its group, or returns the decision to join
    /// the open group another incident leads (that one acts). The first attempt decides on <paramref name="read"/>, the
    /// group row <see cref="OpenGroupAsync"/> read: a row that names an open lead has not changed since (a lead is only
    /// replaced once it is over), and a row that changed makes the conditional write fail, so the next attempt reads it.
    /// </summary>
    public async Task<Decision?> ClaimLeadAsync(IncidentRecord incident, WorkloadTarget target, IncidentGroupRecord? read, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(target);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var group = attempt == 0 ? read : plainLeads.Seen(target, await groups.GetGroupAsync(target.Namespace, target.Name, cancellationToken).ConfigureAwait(false));
            if (group?.LeadIncidentId == incident.IncidentId)
            {
                return null;
            }
            if (group is not null && await OpenLeadAsync(group, cancellationToken).ConfigureAwait(false) is { } lead)
            {
                // Another open remediation of this workload: a cascade's culprit lead is joined; any other one is left to
                // the safety gate (cooldown, budget, the target's reservation), as for any repeated alert.
                return IsDerived(lead) ? Grouped(target, lead) : null;
            }
            if (await groups.TrySetLeadAsync(target.Namespace, target.Name, incident.IncidentId, IsDerived(incident), group, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false))
            {
                plainLeads.Seen(target, new IncidentGroupRecord { LeadIncidentId = incident.IncidentId, LeadDerived = IsDerived(incident) });
                return null;
            }
        }
        throw new TransientDependencyException("storage", $"could not take the lead of the group of {target}: the group row kept changing");
    }

    /// <summary>
    /// A victim's decision: join the open group of its culprit (creating the culprit's derived lead when there is none), or
    /// escalate naming the culprit when the policy does not allow acting on it. The victim is never acted on either way.
    /// </summary>
    public async Task<Decision> JoinCulpritAsync(IncidentRecord incident, NormalizedAlert alert, DiagnosisResult diagnosis, Decision victim,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(diagnosis);
        ArgumentNullException.ThrowIfNull(victim);
        var parts = diagnosis.Component.Split('/');
        var refusal = parts.Length != 2 ? "not a workload" : policies.Current.RefusalFor(parts[0], parts[1]);
        if (refusal is not null)
        {
            return new Decision(DecisionKind.Escalate,
                $"{diagnosis.Summary}; the culprit {diagnosis.Component} is not remediated ({refusal}): a human must look; nothing acted on")
            {
                // A lead that turns out to be a victim itself still closes the members waiting on it.
                LeadsGroup = victim.LeadsGroup,
            };
        }
        var culprit = new WorkloadTarget(parts[0], parts[1]);
        var lead = await EnsureLeadAsync(culprit, alert, cancellationToken).ConfigureAwait(false);
        return victim with { Reason = $"{victim.Reason} (incident {lead})", GroupId = lead };
    }

    /// <summary>Records the member in the lead's partition (before the member records itself, so the lead's closing finds it).</summary>
    public Task AddMemberAsync(string leadIncidentId, string memberIncidentId, CancellationToken cancellationToken = default) =>
        groups.AddMemberAsync(leadIncidentId, memberIncidentId, timeProvider.GetUtcNow(), cancellationToken);

    /// <summary>After a member recorded itself: when its lead is over already, its members (this one among them) are closed now.</summary>
    public async Task CloseIfLeadOverAsync(string leadIncidentId, CancellationToken cancellationToken = default)
    {
        if (await store.GetAsync(leadIncidentId, cancellationToken).ConfigureAwait(false) is { } lead && IncidentLifecycle.IsTerminal(lead.State))
        {
            await IncidentGroupClosure.CloseMembersAsync(store, groups, lead, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The lead the victim joins: the culprit group's open lead; else its lead that ended within the culprit's cooldown (a
    /// victim's alert that arrives after the culprit's remediation ended is recorded with it, closed at once with its
    /// outcome: a new lead would not be acted on before the cooldown ends); else a derived lead made for the culprit (the
    /// group row first, then its incident).
    /// </summary>
    private async Task<string> EnsureLeadAsync(WorkloadTarget culprit, NormalizedAlert victimAlert, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var group = plainLeads.Seen(culprit, await groups.GetGroupAsync(culprit.Namespace, culprit.Name, cancellationToken).ConfigureAwait(false));
            var last = group is null ? null : await store.GetAsync(group.LeadIncidentId, cancellationToken).ConfigureAwait(false);
            if (last is not null && (!IncidentLifecycle.IsTerminal(last.State)
                || (last.CompletedAt is { } ended && timeProvider.GetUtcNow() - ended < policies.Current.Limits.Cooldown)))
            {
                return last.IncidentId;
            }
            var derived = DerivedAlert(culprit, victimAlert, timeProvider.GetUtcNow());
            if (group?.LeadIncidentId == derived.IncidentId
                || await groups.TrySetLeadAsync(culprit.Namespace, culprit.Name, derived.IncidentId, leadDerived: true, group, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false))
            {
                plainLeads.Seen(culprit, null);
                // Claimed and queued like any alert (a duplicate when another victim got there first, or it concluded already).
                await ingestor.IngestAsync([derived], cancellationToken).ConfigureAwait(false);
                return derived.IncidentId;
            }
        }
        throw new TransientDependencyException("storage", $"could not find or make the lead incident of {culprit}: the group row kept changing");
    }

    /// <summary>
    /// The open lead of a cascade: a lead derived for a culprit its victims named. Alerts for that workload join it; a
    /// workload's own repeated alerts are otherwise left to the safety gate.
    /// </summary>
    private async Task<IncidentRecord?> OpenCascadeLeadAsync(IncidentGroupRecord group, CancellationToken cancellationToken) =>
        await OpenLeadAsync(group, cancellationToken).ConfigureAwait(false) is { } lead && IsDerived(lead) ? lead : null;

    /// <summary>True for the incident of a culprit's derived alert (<see cref="DerivedAlert"/>): the group row names it before it exists.</summary>
    public static bool IsDerived(IncidentRecord incident)
    {
        ArgumentNullException.ThrowIfNull(incident);
        return incident.Fingerprint.StartsWith(DerivedFingerprintPrefix, StringComparison.Ordinal);
    }

    /// <summary>The lead the group row names, when it exists and is not over.</summary>
    private async Task<IncidentRecord?> OpenLeadAsync(IncidentGroupRecord group, CancellationToken cancellationToken) =>
        await store.GetAsync(group.LeadIncidentId, cancellationToken).ConfigureAwait(false) is { } lead && !IncidentLifecycle.IsTerminal(lead.State) ? lead : null;

    private static Decision Grouped(WorkloadTarget target, IncidentRecord lead) =>
        new(DecisionKind.Grouped, $"incident {lead.IncidentId} ({lead.State}) already handles {target}: joined its group, not acted on again") { GroupId = lead.IncidentId };

    /// <summary>The alert of a culprit's derived lead: one per culprit and <see cref="LeadWindow"/>, named after the victim's alert.</summary>
    public static NormalizedAlert DerivedAlert(WorkloadTarget culprit, NormalizedAlert victimAlert, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(culprit);
        ArgumentNullException.ThrowIfNull(victimAlert);
        var window = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % LeadWindow.Ticks), TimeSpan.Zero);
        var name = string.IsNullOrEmpty(victimAlert.Name) ? DerivedAlertName : victimAlert.Name;
        var victim = victimAlert.Target is { } t ? t.ToString() : "?";
        var labels = new Dictionary<string, string>
        {
            ["alertname"] = name, ["namespace"] = culprit.Namespace, ["deployment"] = culprit.Name, ["remediation_culprit_of"] = victim,
        };
        if (victimAlert.Severity is { } severity)
        {
            labels["severity"] = severity;
        }
        return new NormalizedAlert
        {
            Source = victimAlert.Source, Name = name, Status = AlertStatus.Firing, Fingerprint = $"{DerivedFingerprintPrefix}{culprit.Namespace}/{culprit.Name}", StartsAt = window,
            Severity = victimAlert.Severity, Labels = labels, Target = culprit,
            Annotations = new Dictionary<string, string> { ["summary"] = $"{culprit} is blamed for the failures of {victim} (service graph)" },
        };
    }
}
