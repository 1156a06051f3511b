using Remediation.Storage;

namespace Remediation.Verification;

/// <summary>What one sweep did: incidents it checked (and their verdicts) and incidents it re-queued.</summary>
public sealed record SweepResult(int Verified, int Succeeded, int Failed, int Requeued);

/// <summary>
/// The periodic safety net: checks remediations whose scheduled check was lost (through the verifier), re-queues
/// incidents whose work item was lost or whose worker died, and removes in-flight registrations whose removal was lost.
/// ETags make concurrent sweeps safe.
/// <para>
/// What it reads grows with the work under way, not with the table. The incidents past Received (acting, verifying,
/// awaiting approval) are registered in flight (<see cref="IInFlightRemediations"/>), so a sweep reads that one partition
/// and their summaries. The incidents still Received are in the work queue unless their work item was lost, and only a
/// scan of the table finds those; a sweep scans (for every open incident) when the queue is empty, and otherwise at most
/// once per <see cref="RemediationOptions.FullSweepInterval"/>: during a storm the queue holds tens of thousands of
/// incidents, and scanning them all every few seconds took the storage time the storm itself needed.
/// </para>
/// </summary>
public sealed class StaleWorkSweeper(
    IIncidentStore store,
    IInFlightRemediations inFlight,
    WorkQueue queue,
    RemediationVerifier verifier,
    RemediationOptions options,
    TimeProvider timeProvider)
{
    /// <summary>Summaries read at once when a sweep reads the incidents in flight.</summary>
    private const int ReadConcurrency = 8;

    /// <summary>When this process's sweep last scanned the table (ticks of <see cref="DateTimeOffset.UtcTicks"/>; 0: never).</summary>
    private long _lastScan;

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        // The registrations first: an incident registered when they are listed is past Received by then, so whatever is
        // read of it afterwards is as new or newer.
        var registrations = await inFlight.ListInFlightAsync(cancellationToken).ConfigureAwait(false);
        var backlog = await queue.ApproximateCountAsync(cancellationToken).ConfigureAwait(false);
        var now = timeProvider.GetUtcNow();
        IReadOnlyList<IncidentRecord> open;
        if (backlog == 0 || now.UtcTicks - Interlocked.Read(ref _lastScan) >= options.FullSweepInterval.Ticks)
        {
            Interlocked.Exchange(ref _lastScan, now.UtcTicks);
            // One query for every open incident (a non-key filter scans the table: once per sweep, not per state), of the
            // few columns the sweep decides on; an incident to verify is read whole.
            open = await store.ListAsync(new IncidentQuery(States: IncidentLifecycle.Open, Select: IncidentStore.SweepColumns), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            open = await ReadRegisteredAsync(registrations, cancellationToken).ConfigureAwait(false);
        }
        var (verified, succeeded, failed) = await verifier.VerifyListedAsync(open, cancellationToken).ConfigureAwait(false);
        var requeued = await RequeueStaleAsync(open, backlog, now, cancellationToken).ConfigureAwait(false);
        await RemoveConcludedAsync(registrations, open, cancellationToken).ConfigureAwait(false);
        return new SweepResult(verified, succeeded, failed, requeued);
    }

    /// <summary>The open incidents among the registered ones (the sweep's columns of each summary).</summary>
    private async Task<IReadOnlyList<IncidentRecord>> ReadRegisteredAsync(IReadOnlyList<InFlightRegistration> registrations, CancellationToken cancellationToken)
    {
        var read = new IncidentRecord?[registrations.Count];
        await Parallel.ForAsync(0, registrations.Count, new ParallelOptions { MaxDegreeOfParallelism = ReadConcurrency, CancellationToken = cancellationToken },
            async (i, ct) => read[i] = await store.GetColumnsAsync(registrations[i].IncidentId, IncidentStore.SweepColumns, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return [.. read.OfType<IncidentRecord>().Where(i => !IncidentLifecycle.IsTerminal(i.State))];
    }

    /// <summary>
    /// Removes the registrations of incidents that have concluded (or do not exist): their own removal was lost. Read after
    /// the registrations were listed, an incident that is not open was concluded, and a concluded incident is never
    /// registered again; the removal is conditional all the same.
    /// </summary>
    private async Task RemoveConcludedAsync(IReadOnlyList<InFlightRegistration> registrations, IReadOnlyList<IncidentRecord> open, CancellationToken cancellationToken)
    {
        var openIds = open.Select(i => i.IncidentId).ToHashSet(StringComparer.Ordinal);
        foreach (var registration in registrations.Where(r => !openIds.Contains(r.IncidentId)))
        {
            await inFlight.TryRemoveInFlightAsync(registration, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Re-queues the Received and Acting incidents left without progress (each at most once per interval).</summary>
    private async Task<int> RequeueStaleAsync(IReadOnlyList<IncidentRecord> open, int backlog, DateTimeOffset now, CancellationToken cancellationToken)
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
        if (stale.Count == 0 || (long)backlog * WorkMessage.MaxItems >= stale.Count)
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
