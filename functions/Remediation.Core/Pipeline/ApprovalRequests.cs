using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Approvals;
using Remediation.Cluster;
using Remediation.Notifications;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// What follows a request for approval: the delayed work item that ends the wait at the deadline (as verification
/// checks are scheduled), and the request sent through the outcome notifications with the plan's diff and signed links.
/// Also the check, before an approved plan runs, that the cluster is still as the plan saw it.
/// </summary>
public sealed partial class ApprovalRequests(
    WorkQueue queue, OutcomeNotifier notifier, ApprovalLinks links, IClusterReader reader, TimeProvider timeProvider, ILogger<ApprovalRequests> logger)
{
    /// <summary>The deadline's check runs this much after it, so it is not a hair early.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    /// <summary>Schedules the deadline and asks; storage refusing the schedule is logged (the sweep re-queues the incident).</summary>
    public async Task RequestedAsync(IncidentRecord incident, ActionPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(plan);
        var deadline = incident.ApprovalDeadline ?? timeProvider.GetUtcNow();
        try
        {
            // A queue message stays invisible for at most 7 days, the longest deadline the policy allows.
            var delay = TimeSpan.FromTicks(Math.Min((deadline - timeProvider.GetUtcNow() + Margin).Ticks, MaxDelay.Ticks));
            await queue.EnqueueAsync(new WorkMessage([new WorkItem(incident.IncidentId, incident.TraceParent)]), delay, cancellationToken).ConfigureAwait(false);
        }
        catch (TransientDependencyException ex)
        {
            LogScheduleFailed(incident.IncidentId, ex.Message);
        }
        ApprovalLinkPair? pair = null;
        if (deadline > timeProvider.GetUtcNow().AddSeconds(1))
        {
            pair = links.For(incident.IncidentId, incident.PlanDigest!, deadline);
        }
        await notifier.NotifyApprovalRequestedAsync(incident, PlanDiff.Of(plan), pair, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Null when every object the plan writes is still at the resourceVersion the plan was made from; else what changed,
    /// e.g. "Deployment shop/checkout resourceVersion 41 -> 57".
    /// </summary>
    public async Task<string?> ChangedSinceAsync(ActionPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var changes = new List<string>();
        foreach (var mutation in plan.Mutations.Where(m => m.ResourceVersion is not null))
        {
            var current = await reader.GetTargetOfAsync(mutation, cancellationToken).ConfigureAwait(false);
            var name = $"{PlanDiff.KindOf(mutation.Kind)} {mutation.Namespace}/{mutation.Name}";
            if (current is null)
            {
                changes.Add($"{name} no longer exists");
            }
            else if ((current["metadata"]?["resourceVersion"] as JsonValue)?.ToString() is var now && now != mutation.ResourceVersion)
            {
                changes.Add($"{name} resourceVersion {mutation.ResourceVersion} -> {now ?? "(none)"}");
            }
        }
        return changes.Count == 0 ? null : string.Join("; ", changes);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {IncidentId}: could not schedule its approval deadline ({Error}); the sweep will check it")]
    private partial void LogScheduleFailed(string incidentId, string error);
}
