using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Ingest;

/// <summary>
/// Claim stage: one incident per alert (insert-if-absent), one work item per new incident, queued per delivery.
/// A duplicate delivery is acknowledged, not re-processed. A failure to enqueue releases the claims so
/// the sender's retry starts afresh.
/// </summary>
public sealed partial class AlertIngestor(
    IIncidentStore store,
    WorkQueue queue,
    Policy.PolicyProvider policyProvider,
    IClaimDecisions decisions,
    RemediationMetrics metrics,
    Notifications.OutcomeNotifier notifier,
    TimeProvider timeProvider,
    ILogger<AlertIngestor> logger)
{
    /// <summary>Alerts of one delivery claimed at once (each claim is two storage round trips).</summary>
    public const int MaxConcurrentClaims = 8;

    /// <summary>Largest normalized alert accepted (Table Storage string properties hold 32 K UTF-16 characters).</summary>
    public const int MaxAlertChars = 30_000;

    /// <summary>
    /// How long a repeated delivery of an alert this process claimed is acknowledged as a duplicate without storage (the
    /// failed insert it would cost says nothing new). Alertmanager sends a group's firing alerts again on every change of
    /// the group and each repeat interval, and retries a delivery that timed out: most deliveries of a storm are repeats.
    /// </summary>
    public static readonly TimeSpan ClaimMemo = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Incidents this process claimed and queued (or recorded as Escalated/Ignored/Refused): their rows exist and stay,
    /// because the only delete of a summary row is the release of a claim whose work item could not be queued, and those
    /// are not remembered. A duplicate answered 409 is not remembered either: its claimer may still release it. Sized for a
    /// storm of 100,000 alerts delivered again within the memo's lifetime, in a fixed 4 MB.
    /// </summary>
    private readonly ClaimedIncidents _claimed = new(ClaimMemo, ClaimMemoCapacity, timeProvider);

    private readonly GroupedEnqueue _enqueue = new(queue);

    /// <summary>Ids the claimed-incident memory holds (131,072: 4 MB).</summary>
    public const int ClaimMemoCapacity = 1 << 17;

    /// <exception cref="AlertTooLargeException">An alert is too large to record; nothing of the delivery was claimed.</exception>
    public async Task<IngestResult> IngestAsync(IReadOnlyList<NormalizedAlert> alerts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        // Each alert is recorded as its JSON in one Table Storage property: serialize each once, and refuse the whole
        // delivery before anything is claimed when one would not fit (it would be a storage error later).
        var alertJson = new string[alerts.Count];
        for (var i = 0; i < alerts.Count; i++)
        {
            alertJson[i] = JsonSerializer.Serialize(alerts[i], AlertJsonContext.Default.NormalizedAlert);
            if (alertJson[i].Length > MaxAlertChars)
            {
                throw new AlertTooLargeException(i, alerts[i].Name, MaxAlertChars);
            }
        }
        var outcomes = new IngestOutcome[alerts.Count];
        var claimed = new IncidentRecord?[alerts.Count];
        Exception? failure = null;
        if (alerts.Count <= 1)
        {
            for (var i = 0; i < alerts.Count; i++)
            {
                (outcomes[i], claimed[i]) = await IngestOneAsync(alerts[i], alertJson[i], cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            failure = await IngestConcurrentlyAsync(alerts, alertJson, outcomes, claimed, cancellationToken).ConfigureAwait(false);
        }
        // The new incidents of the delivery go to the queue together, a message per WorkMessage.MaxItems, after every
        // claim was attempted: a storm delivery of 50 alerts is 2 queue messages, not 50 (and deliveries arriving together
        // share messages).
        await EnqueueClaimedAsync(claimed.OfType<IncidentRecord>().ToList()).ConfigureAwait(false);
        if (failure is not null)
        {
            // Some claims failed (storage): 503, and the sender's retry claims those; the others are duplicates then.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        return IngestResult.Tally(alerts, outcomes);
    }

    /// <summary>
    /// Queues the incidents claimed by one delivery (with other deliveries' when they arrive together, see
    /// <see cref="GroupedEnqueue"/>). A message that cannot be sent releases its claims, so the sender's retry (after our
    /// 503) claims and queues them afresh; nothing claimed is left without a work item.
    /// </summary>
    private async Task EnqueueClaimedAsync(List<IncidentRecord> claimed)
    {
        if (claimed.Count == 0)
        {
            return;
        }
        var (sent, failure) = await _enqueue.EnqueueAsync([.. claimed.Select(ClaimedItem)]).ConfigureAwait(false);
        for (var i = 0; i < claimed.Count; i++)
        {
            if (sent[i])
            {
                _claimed.Remember(claimed[i].IncidentId);
                LogClaimed(claimed[i].IncidentId, claimed[i].AlertName, $"{claimed[i].Namespace}/{claimed[i].Workload}");
            }
            else if (failure is TransientDependencyException or OperationCanceledException)
            {
                await ReleaseClaimAsync(claimed[i]).ConfigureAwait(false);
            }
        }
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>
    /// Claims the alerts of a delivery concurrently, at most <see cref="MaxConcurrentClaims"/> at a time. Alerts of the same
    /// incident (e.g. firing and resolved in one delivery) stay in their order, one after another, so the outcome is the
    /// sequential one. Every alert is attempted even when one fails; the first failure is returned (to be thrown once
    /// what was claimed is queued: 503, the sender retries, and what was claimed is acknowledged as a duplicate then).
    /// </summary>
    private async Task<Exception?> IngestConcurrentlyAsync(IReadOnlyList<NormalizedAlert> alerts, string[] alertJson, IngestOutcome[] outcomes, IncidentRecord?[] claimed, CancellationToken cancellationToken)
    {
        try
        {
            await OrderedLanes.RunAsync(alerts.Count, i => alerts[i].IncidentId, MaxConcurrentClaims,
                async i => (outcomes[i], claimed[i]) = await IngestOneAsync(alerts[i], alertJson[i], cancellationToken).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is TransientDependencyException)
        {
            return ex;
        }
    }

    /// <summary>Claims one alert; returns the claimed record when it needs a work item.</summary>
    private async Task<(IngestOutcome, IncidentRecord?)> IngestOneAsync(NormalizedAlert alert, string alertJson, CancellationToken cancellationToken)
    {
        using var activity = RemediationMetrics.StartIngestActivity(alert.IncidentId, alert.Name);
        metrics.RecordAlert(alert.Source.ToString(), alert.Status.ToString());
        if (alert.Status == AlertStatus.Resolved)
        {
            await RecordResolvedAsync(alert, alertJson, cancellationToken).ConfigureAwait(false);
            return (IngestOutcome.Resolved, null);
        }
        var (outcome, record) = await ClaimAsync(alert, alertJson, cancellationToken).ConfigureAwait(false);
        switch (outcome)
        {
            case ClaimOutcome.Queued: return (IngestOutcome.Queued, record);
            case ClaimOutcome.Escalated: return (IngestOutcome.Escalated, null);
            case ClaimOutcome.Ignored: return (IngestOutcome.Ignored, null);
            case ClaimOutcome.Refused: return (IngestOutcome.Refused, null);
            default:
                metrics.RecordDuplicate(alert.Source.ToString());
                return (IngestOutcome.Duplicate, null);
        }
    }

    private enum ClaimOutcome
    {
        Queued,
        Duplicate,
        Escalated,
        Ignored,
        Refused,
    }

    private async Task<(ClaimOutcome, IncidentRecord?)> ClaimAsync(NormalizedAlert alert, string alertJson, CancellationToken cancellationToken)
    {
        if (_claimed.Contains(alert.IncidentId))
        {
            return (ClaimOutcome.Duplicate, null);
        }
        var now = timeProvider.GetUtcNow();
        var record = NewRecord(alert, alertJson, now);
        if (alert.Target is null)
        {
            // Not mappable to a workload: recorded with the reason, never dropped. An alert that names no Kubernetes
            // workload at all is Ignored unless the policy escalates those (unmappedAlerts); one that names a Kubernetes
            // object invalidly is always Escalated, a human must see it.
            var policy = policyProvider.Current;
            return await ClaimDecidedAsync(record, policy.Ignores(alert) ? IncidentState.Ignored : IncidentState.Escalated, policy.UnmappedReason(alert), cancellationToken)
                .ConfigureAwait(false);
        }
        if (decisions.AtClaim(alert, record) is { } decided)
        {
            // A Deployment this process remembers in cooldown: the claim is the refusal (one insert, no work item).
            return await ClaimDecidedAsync(record, decided.State, decided.Reason, cancellationToken).ConfigureAwait(false);
        }
        // A duplicate delivery costs one failed insert. An incident whose work item was lost (claimed, then the
        // process died before queueing) is re-queued by the sweep's scan after RequeueAfter, not here.
        return await store.TryClaimAsync(record, cancellationToken).ConfigureAwait(false)
            ? (ClaimOutcome.Queued, record)
            : (ClaimOutcome.Duplicate, null);
    }

    /// <summary>
    /// Claims an incident decided at its claim (Ignored, Escalated, Refused) with its decision: the insert is its whole
    /// record, it is never queued. Counted, published (but Ignored) and logged as the worker's decisions are.
    /// </summary>
    private async Task<(ClaimOutcome, IncidentRecord?)> ClaimDecidedAsync(IncidentRecord record, IncidentState state, string reason, CancellationToken cancellationToken)
    {
        (record.State, record.Outcome, record.OutcomeReason, record.CompletedAt) = (state, state.ToString(), reason, record.ReceivedAt);
        if (!await store.TryClaimAsync(record, cancellationToken).ConfigureAwait(false))
        {
            return (ClaimOutcome.Duplicate, null);
        }
        _claimed.Remember(record.IncidentId);
        metrics.RecordDecision(state.ToString());
        if (state == IncidentState.Ignored)
        {
            return (ClaimOutcome.Ignored, null);
        }
        await notifier.NotifyAsync(record, cancellationToken).ConfigureAwait(false);
        LogDecidedAtClaim(record.IncidentId, state, reason);
        return (state == IncidentState.Refused ? ClaimOutcome.Refused : ClaimOutcome.Escalated, null);
    }

    private async Task ReleaseClaimAsync(IncidentRecord claimed)
    {
        try
        {
            // Conditional on the claim's ETag: if a resolution was recorded on it meanwhile, the row stays (with its
            // ResolvedAt) and the sweep re-queues it; the sender's retry is then a duplicate.
            if (!await store.TryDeleteClaimAsync(claimed, CancellationToken.None).ConfigureAwait(false))
            {
                LogReleaseFailed(claimed.IncidentId, "changed since it was claimed");
            }
        }
        catch (TransientDependencyException ex)
        {
            // The row stays 'Received'; the sweep re-queues it after RequeueAfter, so it is not lost.
            LogReleaseFailed(claimed.IncidentId, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Incident {IncidentId} claimed for alert {AlertName} on {Target}")]
    private partial void LogClaimed(string incidentId, string alertName, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "Incident {IncidentId} concluded {State} at its claim: {Reason}")]
    private partial void LogDecidedAtClaim(string incidentId, IncidentState state, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {IncidentId}: could not release the claim ({Error}); the sweep will re-queue it")]
    private partial void LogReleaseFailed(string incidentId, string error);
}
