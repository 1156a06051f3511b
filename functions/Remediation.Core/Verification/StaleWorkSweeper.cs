using Remediation.Storage;

namespace Remediation.Verification;

/// <summary>What one sweep did: incidents it checked (and their verdicts) and incidents it re-queued.</summary>
public sealed record SweepResult(int Verified, int Succeeded, int Failed, int Requeued);

/// <summary>
/// The periodic safety net: checks remediations whose scheduled check was lost (through the verifier), re-queues
/// incidents whose work item was lost or whose worker died, and purges in-flight rows whose removal was lost. Stateless;
/// ETags make concurrent sweeps safe.
/// </summary>
public sealed class StaleWorkSweeper(
    IIncidentStore store,
    IInFlightRemediations inFlight,
    WorkQueue queue,
    RemediationVerifier verifier,
    RemediationOptions options,
    TimeProvider timeProvider)
{
    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        // One query for every open incident (a non-key filter scans the table: do it once per sweep, not per state), of
        // the few columns the sweep decides on: during a storm thousands are open, and their alerts and diagnoses would
        // all be held at once. An incident to verify is read whole.
        var open = await store.ListAsync(new IncidentQuery(States: IncidentLifecycle.Open, Select: IncidentStore.SweepColumns), cancellationToken).ConfigureAwait(false);
        var (verified, succeeded, failed) = await verifier.VerifyListedAsync(open, cancellationToken).ConfigureAwait(false);
        var now = timeProvider.GetUtcNow();
        var requeued = await RequeueStaleAsync(open, now, cancellationToken).ConfigureAwait(false);
        // Rows of remediations whose removal from the in-flight partition was lost stop counting at their expiry; clear them.
        await inFlight.PurgeExpiredInFlightAsync(now, cancellationToken).ConfigureAwait(false);
        return new SweepResult(verified, succeeded, failed, requeued);
    }

    /// <summary>Re-queues the Received and Acting incidents left without progress (each at most once per interval).</summary>
    private async Task<int> RequeueStaleAsync(IReadOnlyList<IncidentRecord> open, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var stale = new List<IncidentRecord>();
        foreach (var incident in open.Where(i => i.State is IncidentState.Received or IncidentState.Acting))
        {
            var after = incident.State == IncidentState.Received ? options.RequeueAfter : options.ActionLease;
            if (now - Max(incident.ActedAt ?? incident.ReceivedAt, incident.RequeuedAt) > after)
            {
                stale.Add(incident);
            }
        }
        // A request for approval whose deadline passed without its deadline message (lost) is re-queued to be escalated.
        stale.AddRange(open.Where(i => i.State == IncidentState.AwaitingApproval && i.ApprovalDeadline < now && !(now - i.RequeuedAt < options.RequeueAfter)));
        // A backlog that can hold the stale incidents (a message holds up to WorkMessage.MaxItems) most likely still
        // holds their work items: wait for it.
        if (stale.Count == 0 || (long)await queue.ApproximateCountAsync(cancellationToken).ConfigureAwait(false) * WorkMessage.MaxItems >= stale.Count)
        {
            return 0;
        }
        var items = new List<WorkItem>(stale.Count);
        foreach (var incident in stale)
        {
            // ETag-conditional: a worker that moved the incident on, or another sweep, wins.
            if (await store.TryMarkRequeuedAsync(incident, now, cancellationToken).ConfigureAwait(false))
            {
                items.Add(new WorkItem(incident.IncidentId, incident.TraceParent));
            }
        }
        var requeued = 0;
        foreach (var message in WorkMessage.Chunk(items))
        {
            await queue.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
            requeued += message.Items.Count;
        }
        return requeued;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset? b) => b is { } v && v > a ? v : a;
}
